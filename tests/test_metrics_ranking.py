"""Ranking metrics at k against hand computations and sklearn's NDCG."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from growthlab.errors import UserError
from growthlab.metrics.ranking import (
    average_precision_at_k,
    catalogue_coverage,
    hit_rate_at_k,
    mean_metrics,
    metric_curve,
    ndcg_at_k,
    novelty,
    per_user_metrics,
    precision_at_k,
    recall_at_k,
)
from growthlab.tasks.recommendation import Recommendation

RELEVANT = {"a", "c", "e"}
RANKED = ["a", "b", "c", "d"]  # hits at ranks 1 and 3


def test_precision_counts_hits_over_k() -> None:
    assert precision_at_k(RELEVANT, RANKED, 4) == 2 / 4
    assert precision_at_k(RELEVANT, RANKED, 2) == 1 / 2
    assert precision_at_k({"c"}, ["c"], 4) == 1 / 4  # a short list still has k slots


def test_recall_counts_hits_over_relevant() -> None:
    assert recall_at_k(RELEVANT, RANKED, 4) == pytest.approx(2 / 3)
    assert recall_at_k(RELEVANT, RANKED, 2) == pytest.approx(1 / 3)
    assert recall_at_k({"z"}, RANKED, 4) == 0.0


def test_hit_rate_is_any_hit_in_the_top_k() -> None:
    assert hit_rate_at_k(RELEVANT, RANKED, 1) == 1.0
    assert hit_rate_at_k({"c"}, RANKED, 2) == 0.0
    assert hit_rate_at_k({"c"}, RANKED, 3) == 1.0


def test_average_precision_by_hand() -> None:
    # (P@1 + P@3) / min(|relevant|, k) = (1 + 2/3) / 3
    assert average_precision_at_k(RELEVANT, RANKED, 4) == pytest.approx(5 / 9)
    # k = 2: one hit at rank 1, divided by min(3, 2) = 2
    assert average_precision_at_k(RELEVANT, RANKED, 2) == pytest.approx(1 / 2)
    assert average_precision_at_k({"b", "d"}, RANKED, 4) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert average_precision_at_k({"z"}, RANKED, 4) == 0.0


def test_ndcg_by_hand() -> None:
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RELEVANT, RANKED, 4) == pytest.approx(dcg / ideal)
    assert ndcg_at_k({"c"}, RANKED, 4) == pytest.approx(1 / math.log2(4))
    assert ndcg_at_k({"a"}, RANKED, 4) == 1.0
    assert ndcg_at_k({"z"}, RANKED, 4) == 0.0


def test_numpy_ids_match_python_ids() -> None:
    """Lists read back from Parquet are numpy arrays of numpy ints."""
    assert ndcg_at_k(np.array([3, 7]), np.array([7, 1, 3]), 3) == ndcg_at_k([3, 7], [7, 1, 3], 3)


def test_ndcg_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items, k = 40, 30, 5
    relevant, ranked = [], []
    y_true = np.zeros((n_users, n_items))
    y_score = np.zeros((n_users, n_items))
    for u in range(n_users):
        rel = rng.choice(n_items, rng.integers(1, 6), replace=False)
        order = rng.permutation(n_items)
        relevant.append(set(rel.tolist()))
        ranked.append(order[:k].tolist())
        y_true[u, rel] = 1
        y_score[u, order] = np.arange(n_items, 0, -1)  # distinct: no ties for sklearn to average
    ours = mean_metrics(relevant, ranked, k)["ndcg_at_5"]
    assert ours == pytest.approx(ndcg_score(y_true, y_score, k=k))


def test_means_and_names() -> None:
    means = mean_metrics([RELEVANT, {"z"}], [RANKED, RANKED], 4)
    assert set(means) == {f"{m}_at_4" for m in ("precision", "recall", "ndcg", "map", "hit_rate")}
    assert means["precision_at_4"] == pytest.approx((0.5 + 0) / 2)
    assert means["hit_rate_at_4"] == 0.5
    per_user = per_user_metrics([RELEVANT, {"z"}], [RANKED, RANKED], 4)
    np.testing.assert_allclose(per_user["recall"], [2 / 3, 0])


def test_catalogue_coverage_and_novelty_by_hand() -> None:
    lists = [["a", "b"], ["b", "c"]]
    assert catalogue_coverage(lists, 5) == 3 / 5
    shares = {"a": 0.5, "b": 0.25, "c": 0.125, "d": 0.0625}
    assert novelty(lists, shares) == pytest.approx(np.mean([1, 2, 2, 3]))
    assert novelty([["x"]], shares) == pytest.approx(4.0)  # unknown: the rarest known share


@pytest.mark.parametrize("k", [0, -1, 2.5])
def test_k_must_be_positive(k: float) -> None:
    with pytest.raises(UserError, match="positive integer"):
        ndcg_at_k(RELEVANT, RANKED, k)


def test_gate_metric_function_equals_the_mean_on_resamples() -> None:
    """The memoised per-user values give the same mean as a fresh computation."""
    rng = np.random.default_rng(1)
    task = Recommendation(k=3)
    y = np.empty((50, 2), dtype=object)
    predictions = np.empty(50, dtype=object)
    for i in range(50):
        y[i, 0] = rng.choice(10, 2, replace=False).tolist()
        y[i, 1] = rng.permutation(10)[:3].tolist()
        predictions[i] = rng.permutation(10)[:3].tolist()
    metric = task.metric_function("ndcg_at_3")
    for _ in range(5):
        rows = rng.integers(0, 50, 50)
        expected = mean_metrics(list(y[rows, 0]), list(predictions[rows]), 3)["ndcg_at_3"]
        assert metric(y[rows], predictions[rows]) == pytest.approx(expected)
    assert task.metrics_of(y, predictions)["map_at_3"] == pytest.approx(
        mean_metrics(list(y[:, 0]), list(predictions), 3)["map_at_3"]
    )
    np.testing.assert_array_equal(task.baseline_scores(y), y[:, 1])
    with pytest.raises(UserError, match="training data"):
        task.metric_function("novelty")


def test_metric_curve_gives_the_mean_at_each_k() -> None:
    curve = metric_curve([RELEVANT, {"b"}], [RANKED, RANKED], [1, 2, 3, 4], "recall")
    assert curve == pytest.approx(
        [(1 / 3 + 0) / 2, (1 / 3 + 1) / 2, (2 / 3 + 1) / 2, (2 / 3 + 1) / 2]
    )
