"""Uplift metrics checked by hand on six customers, and against causalml's values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from growthlab.errors import UserError
from growthlab.metrics.uplift import (
    UPLIFT_DECILE_COLUMNS,
    auuc,
    average_treatment_effect,
    best_share,
    profit_curve,
    qini_coefficient,
    qini_curve,
    uplift_at,
    uplift_curve,
    uplift_decile_table,
    uplift_metrics,
)

# Six customers ranked by descending score:
#   rank:  1   2   3   4   5   6
#   score: .9  .8  .7  .6  .5  .4
#   t:     1   0   1   0   1   0
#   y:     1   0   1   1   0   0
# Stored shuffled so the functions must sort.
PERM = [4, 1, 5, 0, 3, 2]
RANK_SCORE = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
RANK_T = np.array([1, 0, 1, 0, 1, 0])
RANK_Y = np.array([1, 0, 1, 1, 0, 0])
SCORE, T, Y = RANK_SCORE[PERM], RANK_T[PERM], RANK_Y[PERM]

# After the top k (N_T, N_C, Y_T, Y_C):
#   k=1 (1,0,1,0): no control yet -> undefined: Q(1) = (Q(0) + Q(2)) / 2 = 0.5 and the rate
#                  difference halfway between 0 (k=0) and 1 (k=2): G(1) = 0.5 * 1 = 0.5
#   k=2 (1,1,1,0): Q = 1 - 0 = 1          G = (1/1 - 0/1) * 2 = 2
#   k=3 (2,1,2,0): Q = 2                  G = (2/2 - 0/1) * 3 = 3
#   k=4 (2,2,2,1): Q = 2 - 1 * 2/2 = 1    G = (2/2 - 1/2) * 4 = 2
#   k=5 (3,2,2,1): Q = 2 - 1 * 3/2 = 0.5  G = (2/3 - 1/2) * 5 = 5/6
#   k=6 (3,3,2,1): Q = 2 - 1 = 1          G = (2/3 - 1/3) * 6 = 2
HAND_QINI = np.array([0, 0.5, 1, 2, 1, 0.5, 1])
HAND_GAIN = np.array([0, 0.5, 2, 3, 2, 5 / 6, 2])
# Qini coefficient: mean of Q(k) - 1 * k/6 = (0 + 1/3 + 2/3 + 3/2 + 1/3 - 1/3 + 0) / 7
HAND_QINI_COEF = 2.5 / 7
HAND_AUUC = (0 + 0.5 + 2 + 3 + 2 + 5 / 6 + 2) / 7

# causalml 0.18.0 on the same six rows, in a scratch venv (not a dependency; 1.6 GB):
#   df = pd.DataFrame({"y": Y, "w": T, "model": SCORE})
#   causalml.metrics.qini_score(df, normalize=...)["model"]
#   causalml.metrics.auuc_score(df, normalize=...)["model"]
#   causalml.metrics.get_qini(df, normalize=False)["model"].to_numpy()
#   causalml.metrics.get_cumgain(df, normalize=False)["model"].to_numpy()
CAUSALML_QINI = 0.35714285714285715
CAUSALML_QINI_NORMALIZED = 0.35714285714285715
CAUSALML_AUUC = 1.4761904761904763
CAUSALML_AUUC_NORMALIZED = 0.7380952380952381
CAUSALML_QINI_CURVE = [0.0, 0.5, 1.0, 2.0, 1.0, 0.5, 1.0]
CAUSALML_GAIN_CURVE = [0.0, 0.5, 2.0, 3.0, 2.0, 0.8333333333333331, 2.0]


def test_curves_by_hand() -> None:
    x, q = qini_curve(Y, T, SCORE)
    np.testing.assert_allclose(x, np.arange(7) / 6)
    np.testing.assert_allclose(q, HAND_QINI)
    np.testing.assert_allclose(uplift_curve(Y, T, SCORE)[1], HAND_GAIN)
    # Normalised: divided by the end value (1 for Qini, 2 for the gain curve).
    np.testing.assert_allclose(qini_curve(Y, T, SCORE, normalize=True)[1], HAND_QINI)
    np.testing.assert_allclose(uplift_curve(Y, T, SCORE, normalize=True)[1], HAND_GAIN / 2)


def test_coefficients_by_hand() -> None:
    assert qini_coefficient(Y, T, SCORE) == pytest.approx(HAND_QINI_COEF)
    assert qini_coefficient(Y, T, SCORE, normalize=True) == pytest.approx(HAND_QINI_COEF)
    assert auuc(Y, T, SCORE) == pytest.approx(HAND_AUUC)
    assert auuc(Y, T, SCORE, normalize=True) == pytest.approx(HAND_AUUC / 2)


def test_matches_causalml() -> None:
    assert qini_coefficient(Y, T, SCORE) == pytest.approx(CAUSALML_QINI)
    assert qini_coefficient(Y, T, SCORE, normalize=True) == pytest.approx(CAUSALML_QINI_NORMALIZED)
    assert auuc(Y, T, SCORE) == pytest.approx(CAUSALML_AUUC)
    assert auuc(Y, T, SCORE, normalize=True) == pytest.approx(CAUSALML_AUUC_NORMALIZED)
    np.testing.assert_allclose(qini_curve(Y, T, SCORE)[1], CAUSALML_QINI_CURVE)
    np.testing.assert_allclose(uplift_curve(Y, T, SCORE)[1], CAUSALML_GAIN_CURVE)


def test_matches_causalml_on_forty_random_rows() -> None:
    # causalml 0.18.0 qini_score / auuc_score (normalize False, True) on exactly these rows.
    rng = np.random.default_rng(7)
    y, t, s = rng.integers(0, 2, 40), rng.integers(0, 2, 40), rng.random(40).round(6)
    assert qini_coefficient(y, t, s) == pytest.approx(0.0933563194002674)
    assert qini_coefficient(y, t, s, normalize=True) == pytest.approx(0.02333907985006685)
    assert auuc(y, t, s) == pytest.approx(4.193154012938994)
    assert auuc(y, t, s, normalize=True) == pytest.approx(0.4717298264556368)


def test_ties_are_one_block_whatever_the_row_order() -> None:
    # Ranks 3 and 4 share a score: the curve is only defined at the block's end (k=4), so
    # Q(3) is the midpoint of Q(2) = 1 and Q(4) = 1, and G(3) that of G(2) = 2 and G(4) = 2.
    tied = RANK_SCORE.copy()
    tied[2:4] = 0.65
    q = qini_curve(RANK_Y, RANK_T, tied)[1]
    np.testing.assert_allclose(q, [0, 0.5, 1, 1, 1, 0.5, 1])
    np.testing.assert_allclose(uplift_curve(RANK_Y, RANK_T, tied)[1], [0, 0.5, 2, 2, 2, 5 / 6, 2])
    swap = [0, 1, 3, 2, 4, 5]
    q_swapped = qini_curve(RANK_Y[swap], RANK_T[swap], tied[swap])[1]
    np.testing.assert_allclose(q_swapped, q)


def test_constant_scores_give_the_random_line() -> None:
    q = qini_curve(Y, T, np.zeros(6))[1]
    np.testing.assert_allclose(q, np.arange(7) / 6)
    assert qini_coefficient(Y, T, np.zeros(6)) == pytest.approx(0.0)


def test_uplift_at_top_k() -> None:
    # Top 3 (50 %): treated ranks 1, 3 both convert; control rank 2 does not -> 1 - 0.
    assert uplift_at(Y, T, SCORE, 0.5) == pytest.approx(1.0)
    # All rows: 2/3 - 1/3.
    assert uplift_at(Y, T, SCORE, 1.0) == pytest.approx(1 / 3)
    with pytest.raises(UserError, match="no control"):
        uplift_at(Y, T, SCORE, 0.1)  # top 1 row is treated only


def test_ate_with_normal_interval() -> None:
    ate, low, high = average_treatment_effect(Y, T)
    # 2/3 - 1/3; se = sqrt(2/9 / 3 + 2/9 / 3) = sqrt(4/27); z(0.975) = 1.959964
    half = 1.959964 * math.sqrt(4 / 27)
    assert ate == pytest.approx(1 / 3)
    assert (low, high) == pytest.approx((1 / 3 - half, 1 / 3 + half), rel=1e-6)
    narrower = average_treatment_effect(Y, T, confidence=0.8)
    assert narrower[1] > low and narrower[2] < high


def test_profit_curve_and_best_share() -> None:
    # value 10 per incremental conversion, cost 1 per contact: 10 * G(k) - k
    x, profit = profit_curve(Y, T, SCORE, value=10, cost=1)
    np.testing.assert_allclose(profit, 10 * HAND_GAIN - np.arange(7))
    assert best_share(Y, T, SCORE, value=10, cost=1) == pytest.approx((0.5, 27.0))
    # A contact dearer than any gain: target nobody.
    assert best_share(Y, T, SCORE, value=1, cost=100) == (0.0, 0.0)


def test_decile_table_counts() -> None:
    table = uplift_decile_table(Y, T, SCORE, n_bins=3)
    assert list(table.columns) == UPLIFT_DECILE_COLUMNS
    # Bins of two ranks: (1,2), (3,4), (5,6).
    assert table["treated"].tolist() == [1, 1, 1]
    assert table["control"].tolist() == [1, 1, 1]
    assert table["treated_rate"].tolist() == [1.0, 1.0, 0.0]
    assert table["control_rate"].tolist() == [0.0, 1.0, 0.0]
    assert table["uplift"].tolist() == [1.0, 0.0, 0.0]
    assert table["count"].sum() == 6
    assert table["score_max"].tolist() == [0.9, 0.7, 0.5]
    one_arm = uplift_decile_table(RANK_Y, RANK_T, RANK_SCORE, n_bins=6)
    assert math.isnan(one_arm.loc[0, "control_rate"])


def test_metric_set_names() -> None:
    metrics = uplift_metrics(Y, T, SCORE, fractions=(0.5, 1.0))
    assert set(metrics) == {
        "qini",
        "qini_normalized",
        "auuc",
        "auuc_normalized",
        "uplift_at_50pct",
        "uplift_at_100pct",
        "ate",
    }
    assert metrics["qini"] == pytest.approx(HAND_QINI_COEF)


def test_better_ranking_scores_higher_on_simulated_effects() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    tau = rng.uniform(-0.05, 0.15, n)
    t = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.1 + t * tau).astype(int)
    assert qini_coefficient(y, t, tau) > qini_coefficient(y, t, rng.random(n)) + 0.01 * n * 0.1


@pytest.mark.parametrize(
    ("y", "t", "match"),
    [
        ([1, 0, 2], [1, 0, 1], "y must be 0/1"),
        ([1, 0, 1], [1, 0, 5], "treatment must be 0/1"),
        ([1, 0, 1], [1, 1, 1], "only one arm"),
        ([1, 0], [1, 0, 1], "same customers"),
        ([], [], "no rows"),
    ],
)
def test_user_mistakes_are_one_line(y: list[int], t: list[int], match: str) -> None:
    with pytest.raises(UserError, match=match):
        qini_coefficient(y, t, np.zeros(len(y)))
