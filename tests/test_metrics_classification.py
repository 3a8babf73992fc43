"""Metrics checked against numbers worked out by hand, with sklearn as an independent reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from growthlab.errors import UserError
from growthlab.metrics.classification import (
    DECILE_COLUMNS,
    binary_metrics,
    capture_at,
    decile_table,
    gains_curve,
    lift_at,
    precision_at_k,
    top_mask,
)

# Ten customers, three converters. Sorted by descending score they are:
#   rank:  1    2    3    4    5    6    7    8    9    10
#   score: .95  .85  .75  .65  .55  .45  .35  .25  .15  .05
#   y:     1    0    1    0    0    1    0    0    0    0
# Stored in a shuffled row order so the functions must really sort.
PERM = [3, 7, 0, 9, 5, 1, 8, 2, 6, 4]  # row i holds rank PERM[i] + 1
RANK_SCORES = np.array([0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05])
RANK_Y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
SCORES = RANK_SCORES[PERM]
Y = RANK_Y[PERM]
BASE = 0.3  # 3 / 10


def test_fixture_is_shuffled_but_same_rows() -> None:
    assert not np.array_equal(SCORES, RANK_SCORES)
    assert sorted(zip(SCORES, Y, strict=True)) == sorted(zip(RANK_SCORES, RANK_Y, strict=True))


def test_top_mask_picks_highest_scores() -> None:
    # 30% of 10 = 3 rows: scores .95, .85, .75 (0.3 * 10 is 3.0000000000000004 in floats).
    mask = top_mask(SCORES, 0.3)
    assert mask.dtype == bool and mask.sum() == 3
    assert sorted(SCORES[mask]) == [0.75, 0.85, 0.95]
    # ceil: 5% of 10 = 0.5 -> 1 row; 25% -> 2.5 -> 3 rows; 100% -> all.
    assert top_mask(SCORES, 0.05).sum() == 1
    assert top_mask(SCORES, 0.25).sum() == 3
    assert top_mask(SCORES, 1.0).all()
    # 0.7 * 10 is 7.000000000000001: must still be 7 rows, not 8.
    assert top_mask(SCORES, 0.7).sum() == 7


@pytest.mark.parametrize(
    ("fraction", "lift", "capture"),
    [
        # top 1 row (rank 1, y=1): rate 1/1 = 1.0 -> lift 1.0 / 0.3; 1 of 3 converters
        (0.10, 1.0 / 0.3, 1 / 3),
        # top 2 rows (y = 1, 0): rate 0.5 -> lift 0.5 / 0.3 = 1.667; 1 of 3
        (0.20, 0.5 / 0.3, 1 / 3),
        # top 3 rows (y = 1, 0, 1): rate 2/3 -> lift 2.222; 2 of 3
        (0.30, (2 / 3) / 0.3, 2 / 3),
        # top 6 rows hold all 3: rate 0.5 -> lift 1.667; capture 1
        (0.60, 0.5 / 0.3, 1.0),
        # everyone: lift 1, capture 1
        (1.00, 1.0, 1.0),
    ],
)
def test_lift_and_capture_by_hand(fraction: float, lift: float, capture: float) -> None:
    assert lift_at(Y, SCORES, fraction) == pytest.approx(lift)
    assert capture_at(Y, SCORES, fraction) == pytest.approx(capture)


@pytest.mark.parametrize(
    ("k", "expected"),
    [(1, 1.0), (2, 0.5), (3, 2 / 3), (4, 0.5), (6, 0.5), (10, 0.3), (15, 0.3)],  # k > n: all rows
)
def test_precision_at_k_by_hand(k: int, expected: float) -> None:
    assert precision_at_k(Y, SCORES, k) == pytest.approx(expected)


def test_decile_table_three_bins_by_hand() -> None:
    # array_split of 10 ranked rows into 3 bins: sizes 4, 3, 3.
    #   bin 1 = ranks 1-4  (y 1,0,1,0): 2 conv, rate .5,  lift .5/.3,  cum 4/2,  capture 2/3
    #   bin 2 = ranks 5-7  (y 0,1,0):   1 conv, rate 1/3, lift 1.111, cum 7/3,  capture 1
    #   bin 3 = ranks 8-10 (y 0,0,0):   0 conv, rate 0,   lift 0,     cum 10/3, capture 1
    table = decile_table(Y, SCORES, n_bins=3)
    expected = pd.DataFrame(
        {
            "decile": [1, 2, 3],
            "count": [4, 3, 3],
            "conversions": [2, 1, 0],
            "rate": [0.5, 1 / 3, 0.0],
            "lift": [0.5 / 0.3, (1 / 3) / 0.3, 0.0],
            "cumulative_count": [4, 7, 10],
            "cumulative_conversions": [2, 3, 3],
            "cumulative_capture": [2 / 3, 1.0, 1.0],
            "score_min": [0.65, 0.35, 0.05],
            "score_max": [0.95, 0.55, 0.25],
        }
    )
    assert list(table.columns) == DECILE_COLUMNS
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)


def test_decile_table_default_ten_bins_one_row_each() -> None:
    table = decile_table(Y, SCORES)
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["count"].tolist() == [1] * 10
    assert table["conversions"].tolist() == RANK_Y.tolist()
    assert table["score_max"].tolist() == RANK_SCORES.tolist()
    # Decile capture must agree with capture_at on the same cut.
    assert table["cumulative_capture"].iloc[2] == pytest.approx(capture_at(Y, SCORES, 0.3))


def test_gains_curve_by_hand() -> None:
    x, y = gains_curve(Y, SCORES)
    # One step per contacted customer; converters sit at ranks 1, 3 and 6.
    np.testing.assert_allclose(x, np.linspace(0, 1, 11))
    np.testing.assert_allclose(y, [0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 1, 1, 1, 1, 1])


def test_binary_metrics_by_hand_and_against_sklearn() -> None:
    m = binary_metrics(Y, SCORES, capacity=4)
    assert list(m) == [
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier",
        "lift_at_5pct",
        "capture_at_5pct",
        "lift_at_10pct",
        "capture_at_10pct",
        "lift_at_20pct",
        "capture_at_20pct",
        "precision_at_capacity",
        "base_rate",
    ]
    # AUC = share of (converter, non-converter) pairs ordered correctly, 3 * 7 = 21 pairs:
    # rank 1 beats all 7 negatives, rank 3 beats 6 (ranks 4,5,7-10), rank 6 beats 4 -> 17/21.
    assert m["roc_auc"] == pytest.approx(17 / 21)
    # AP = mean precision at each converter's rank: (1/1 + 2/3 + 3/6) / 3.
    assert m["average_precision"] == pytest.approx((1 + 2 / 3 + 0.5) / 3)
    p, yv = RANK_SCORES, RANK_Y
    assert m["log_loss"] == pytest.approx(-np.mean(yv * np.log(p) + (1 - yv) * np.log(1 - p)))
    assert m["brier"] == pytest.approx(np.mean((p - yv) ** 2))
    # 5% and 10% of 10 both mean the single top row; 20% means two rows (see above).
    assert m["lift_at_5pct"] == pytest.approx(1 / 0.3)
    assert m["capture_at_5pct"] == pytest.approx(1 / 3)
    assert m["lift_at_10pct"] == pytest.approx(1 / 0.3)
    assert m["lift_at_20pct"] == pytest.approx(0.5 / 0.3)
    assert m["capture_at_20pct"] == pytest.approx(1 / 3)
    assert m["precision_at_capacity"] == pytest.approx(0.5)
    assert m["base_rate"] == pytest.approx(BASE)
    # sklearn as an independent reference.
    assert m["roc_auc"] == pytest.approx(roc_auc_score(Y, SCORES))
    assert m["average_precision"] == pytest.approx(average_precision_score(Y, SCORES))
    assert m["log_loss"] == pytest.approx(log_loss(Y, SCORES))
    assert m["brier"] == pytest.approx(brier_score_loss(Y, SCORES))


def test_binary_metrics_custom_fractions_and_no_capacity() -> None:
    m = binary_metrics(Y, SCORES, fractions=(0.3,))
    assert list(m) == [
        "roc_auc", "average_precision", "log_loss", "brier",
        "lift_at_30pct", "capture_at_30pct", "base_rate",
    ]  # fmt: skip
    assert m["capture_at_30pct"] == pytest.approx(2 / 3)


def test_log_loss_clips_certain_wrong_scores() -> None:
    # A score of exactly 0 for a converter would be infinite log loss without clipping.
    y, s = np.array([1, 0]), np.array([0.0, 0.0])
    expected = -math.log(1e-15) / 2  # converter at 1e-15, non-converter at ~0 loss
    assert binary_metrics(y, s)["log_loss"] == pytest.approx(expected, rel=1e-6)


def test_ties_are_broken_by_original_row_order() -> None:
    scores = np.array([0.5, 0.5, 0.5, 0.5])
    # Stable descending sort keeps rows 0, 1 first among equals.
    assert top_mask(scores, 0.5).tolist() == [True, True, False, False]
    # Converter in row 0: found by the top 25%; in row 3: not found.
    assert capture_at([1, 0, 0, 0], scores, 0.25) == 1.0
    assert capture_at([0, 0, 0, 1], scores, 0.25) == 0.0
    assert precision_at_k([0, 1, 0, 0], scores, 2) == 0.5
    # Decile bins, gains and top_mask all share the same order.
    table = decile_table([0, 0, 0, 1], scores, n_bins=4)
    assert table["conversions"].tolist() == [0, 0, 0, 1]
    _, gains = gains_curve([0, 0, 0, 1], scores)
    assert gains.tolist() == [0, 0, 0, 0, 1]
    # Repeatable: same input, same answer.
    assert lift_at([0, 1, 0, 1], scores, 0.25) == lift_at([0, 1, 0, 1], scores, 0.25) == 0.0


def test_accepts_bool_lists_and_float_labels() -> None:
    assert lift_at([True, False], [0.9, 0.1], 0.5) == 2.0
    # 20% of 3 rows -> ceil(0.6) = 1 row: the 0.9 converter, 1 of 2 converters.
    assert capture_at([1.0, 0.0, 1.0], [0.9, 0.1, 0.2], 0.2) == 0.5


@pytest.mark.parametrize(
    ("y_true", "y_score", "message"),
    [
        ([], [], "y_true is empty"),
        ([0, 0, 0], [0.1, 0.2, 0.3], "has only one class in"),
        ([1, 1], [0.1, 0.2], "need both converters and non-converters"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "must be 0/1"),
        (["yes", "no"], [0.1, 0.2], "must be 0/1"),
        ([0, 1, 1], [0.1, 0.2], "3 rows but y_score has 2"),
        ([0, 1], [0.1, np.nan], "NaN or infinite"),
    ],
)
def test_invalid_labels_raise_user_error(y_true: list, y_score: list, message: str) -> None:
    for call in (
        lambda: binary_metrics(y_true, y_score),
        lambda: lift_at(y_true, y_score, 0.1),
        lambda: capture_at(y_true, y_score, 0.1),
        lambda: precision_at_k(y_true, y_score, 1),
        lambda: decile_table(y_true, y_score, n_bins=1),
        lambda: gains_curve(y_true, y_score),
    ):
        with pytest.raises(UserError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_where_names_the_data_in_the_message() -> None:
    with pytest.raises(UserError, match="only one class in the validation split"):
        binary_metrics([0, 0], [0.1, 0.2], where="the validation split")


@pytest.mark.parametrize(
    "call",
    [
        lambda: top_mask(SCORES, 0.0),
        lambda: lift_at(Y, SCORES, 1.5),
        lambda: precision_at_k(Y, SCORES, 0),
        lambda: decile_table(Y, SCORES, n_bins=11),
        lambda: binary_metrics(Y, SCORES * 3),  # not probabilities
        lambda: binary_metrics(Y, SCORES, fractions=(0.1, 0.1001)),  # same name twice
    ],
)
def test_bad_arguments_raise_user_error(call) -> None:
    with pytest.raises(UserError):
        call()
