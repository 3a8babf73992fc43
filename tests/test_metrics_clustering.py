"""Clustering metrics: by hand on a tiny example, and against scikit-learn on random data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from growthlab.errors import UserError
from growthlab.metrics import clustering as cm

# Two segments on a line: {0, 2} and {10, 12}. Centroids 1 and 11, overall mean 6.
TINY_X = np.array([[0.0], [2.0], [10.0], [12.0]])
TINY_LABELS = np.array([0, 0, 1, 1])


def test_calinski_harabasz_by_hand() -> None:
    between = 2 * (1 - 6) ** 2 + 2 * (11 - 6) ** 2  # 100
    within = 4 * 1.0**2  # every point is 1 from its centroid
    n, k = 4, 2
    expected = (between / (k - 1)) / (within / (n - k))  # 50
    assert cm.calinski_harabasz(TINY_X, TINY_LABELS) == pytest.approx(expected)
    assert expected == 50


def test_davies_bouldin_by_hand() -> None:
    spread, gap = 1.0, 10.0  # mean distance to the own centroid; centroid distance
    assert cm.davies_bouldin(TINY_X, TINY_LABELS) == pytest.approx((spread + spread) / gap)


def test_silhouette_by_hand() -> None:
    # Point 0: a = 2 (to 2), b = mean(10, 12) = 11; point 2: a = 2, b = mean(10, 8) = 9.
    outer, inner = (11 - 2) / 11, (9 - 2) / 9
    np.testing.assert_allclose(
        cm.silhouette_values(TINY_X, TINY_LABELS), [outer, inner, inner, outer]
    )
    assert cm.silhouette(TINY_X, TINY_LABELS, None) == pytest.approx((outer + inner) / 2)


def test_adjusted_rand_by_hand() -> None:
    # Contingency [[2, 0, 0], [0, 1, 1]]: index = C(2,2) = 1, rows 2, columns 1, pairs C(4,2) = 6.
    expected_index = 2 * 1 / 6
    expected = (1 - expected_index) / (0.5 * (2 + 1) - expected_index)  # 4/7
    assert cm.adjusted_rand([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    assert expected == pytest.approx(4 / 7)
    assert cm.adjusted_rand([0, 0, 1, 1], ["b", "b", "a", "a"]) == 1.0  # names do not matter


def test_shares_by_hand() -> None:
    assert cm.min_segment_share([3, 3, 3, 7]) == 0.25
    np.testing.assert_allclose(cm.segment_shares([3, 3, 3, 7]), [0.75, 0.25])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_agree_with_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(240, 5))
    labels = rng.integers(0, 4, 240)
    X[labels == 1] += 2.5
    labels[0] = 9  # a segment of one row: silhouette 0 by convention
    assert cm.calinski_harabasz(X, labels) == pytest.approx(sk.calinski_harabasz_score(X, labels))
    assert cm.davies_bouldin(X, labels) == pytest.approx(sk.davies_bouldin_score(X, labels))
    np.testing.assert_allclose(
        cm.silhouette_values(X, labels), sk.silhouette_samples(X, labels), atol=1e-10
    )
    assert cm.silhouette(X, labels, None) == pytest.approx(sk.silhouette_score(X, labels))
    other = rng.integers(0, 3, 240)
    assert cm.adjusted_rand(labels, other) == pytest.approx(sk.adjusted_rand_score(labels, other))


def test_sampled_silhouette_is_the_exact_silhouette_of_a_seeded_sample() -> None:
    rng = np.random.default_rng(3)
    X, labels = rng.normal(size=(500, 3)), rng.integers(0, 3, 500)
    rows = np.sort(np.random.default_rng(7).permutation(500)[:100])
    expected = sk.silhouette_score(X[rows], labels[rows])
    assert cm.silhouette(X, labels, 100, seed=7) == pytest.approx(expected)
    # The sample depends on n, size and seed only: two labelings are judged on the same rows.
    other = rng.integers(0, 3, 500)
    assert cm.silhouette(X, other, 100, seed=7) == pytest.approx(
        sk.silhouette_score(X[rows], other[rows])
    )


def test_one_segment_scores_the_worst_value_instead_of_raising() -> None:
    X, one = TINY_X, np.zeros(4)
    assert cm.silhouette(X, one) == -1.0
    assert cm.calinski_harabasz(X, one) == 0.0
    assert cm.davies_bouldin(X, one) == np.inf
    assert cm.min_segment_share(one) == 1.0


def test_mismatched_lengths_are_user_errors() -> None:
    with pytest.raises(UserError, match="one label a row"):
        cm.calinski_harabasz(TINY_X, [0, 1])
    with pytest.raises(UserError):
        cm.adjusted_rand([0, 1], [0])


def test_the_task_gate_functions_are_these_metrics() -> None:
    from growthlab.tasks.segmentation import Segmentation

    task = Segmentation(gate_silhouette_rows=100, seed=3)
    rng = np.random.default_rng(5)
    X, labels = rng.normal(size=(300, 3)), rng.integers(0, 3, 300)
    for name in ("calinski_harabasz", "davies_bouldin", "min_segment_share"):
        assert task.metric_function(name)(X, labels) == pytest.approx(
            task.metrics_of(X, labels)[name]
        )
    rows = np.sort(np.random.default_rng(3).permutation(300)[:100])
    assert task.metric_function("silhouette")(X, labels) == pytest.approx(
        sk.silhouette_score(X[rows], labels[rows])
    )
    assert task.minimized == ("davies_bouldin",)
