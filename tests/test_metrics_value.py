"""Value metrics checked by hand on tiny arrays, and the Gini against independent formulas."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from growthlab.errors import UserError
from growthlab.metrics.value import (
    aggregate_error_pct,
    assign_tiers,
    calibration_table,
    gains_curve,
    mae,
    normalized_gini,
    rmse,
    tier_table,
    value_captured,
    value_metrics,
)

# Five customers; by prediction the order is 4 (60), 0 (30), 2 (25), 3 (4), 1 (1), so the
# actual values in ranking order are [55, 10, 30, 5, 0] (total 100; predicted total 120).
ACTUAL = np.array([10.0, 0.0, 30.0, 5.0, 55.0])
PREDICTED = np.array([30.0, 1.0, 25.0, 4.0, 60.0])


def pairwise_normalized_gini(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Brute force: sum over pairs of (a_i - a_j) sign(p_i - p_j), over sum of |a_i - a_j|."""
    pairs = list(itertools.combinations(range(actual.size), 2))
    agree = sum((actual[i] - actual[j]) * np.sign(predicted[i] - predicted[j]) for i, j in pairs)
    return agree / sum(abs(actual[i] - actual[j]) for i, j in pairs)


def test_errors_by_hand() -> None:
    # predicted - actual = [20, 1, -5, -1, 5]
    assert mae(ACTUAL, PREDICTED) == pytest.approx(32 / 5)
    assert rmse(ACTUAL, PREDICTED) == pytest.approx(math.sqrt((400 + 1 + 25 + 1 + 25) / 5))
    assert aggregate_error_pct(ACTUAL, PREDICTED) == pytest.approx(20.0)


def test_normalized_gini_by_hand() -> None:
    # By prediction the cumulative actual is 55, 65, 95, 100, 100 (sum 415); sorted by actual
    # it is 55, 85, 95, 100, 100 (sum 435). Gini = sum / total / n - (n + 1) / (2n).
    model, best = 415 / 100 / 5 - 0.6, 435 / 100 / 5 - 0.6
    assert normalized_gini(ACTUAL, PREDICTED) == pytest.approx(model / best)  # 23 / 27
    assert normalized_gini(ACTUAL, ACTUAL) == pytest.approx(1.0)
    assert normalized_gini(ACTUAL, -ACTUAL) == pytest.approx(-1.0)


def test_ties_share_their_value() -> None:
    # Predictions 5, 5 tie: their actuals 0 and 10 count as 5 each. Pairs: (0,1) tie 0,
    # (0,2) -30, (0,3) -60, (1,2) -20, (1,3) -50, (2,3) -30 = -190 over |diffs| 200.
    actual, predicted = np.array([0.0, 10.0, 30.0, 60.0]), np.array([5.0, 5.0, 1.0, 0.0])
    assert normalized_gini(actual, predicted) == pytest.approx(-0.95)
    assert value_captured(actual, predicted, 0.25) == pytest.approx(0.05)
    constant = np.full(4, 7.0)
    assert normalized_gini(actual, constant) == pytest.approx(0.0)
    assert value_captured(actual, constant, 0.5) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_normalized_gini_matches_the_pairwise_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    actual = rng.gamma(0.5, 40.0, 40) * (rng.uniform(size=40) < 0.6)
    predicted = np.round(actual + rng.normal(0, 30, 40))  # rounding makes some ties
    got = normalized_gini(actual, predicted)
    assert got == pytest.approx(pairwise_normalized_gini(actual, predicted))


def test_normalized_gini_of_a_binary_value_is_2_auc_minus_1() -> None:
    rng = np.random.default_rng(3)
    actual = (rng.uniform(size=200) < 0.3).astype(float)
    predicted = np.round(actual + rng.normal(0, 1, 200), 1)
    expected = 2 * roc_auc_score(actual, predicted) - 1
    assert normalized_gini(actual, predicted) == pytest.approx(expected)


def test_value_captured_and_gains_by_hand() -> None:
    assert value_captured(ACTUAL, PREDICTED, 0.1) == pytest.approx(0.55)  # ceil(0.5) = 1 row
    assert value_captured(ACTUAL, PREDICTED, 0.2) == pytest.approx(0.55)
    assert value_captured(ACTUAL, PREDICTED, 0.4) == pytest.approx(0.65)
    assert value_captured(ACTUAL, PREDICTED, 1.0) == pytest.approx(1.0)
    x, y = gains_curve(ACTUAL, PREDICTED)
    np.testing.assert_allclose(x, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(y, [0, 0.55, 0.65, 0.95, 1.0, 1.0])


def test_calibration_table_by_hand() -> None:
    got = calibration_table(ACTUAL, PREDICTED, n_bins=2)
    expected = pd.DataFrame(
        {
            "decile": [1, 2],
            "customers": [3, 2],
            "mean_predicted": [115 / 3, 2.5],  # rows 4, 0, 2 then 3, 1
            "mean_actual": [95 / 3, 2.5],
            "predicted_min": [25.0, 1.0],
        }
    )
    pd.testing.assert_frame_equal(got, expected)
    assert len(calibration_table(np.arange(100.0), np.arange(100.0))) == 10


def test_tiers_by_hand() -> None:
    # cuts 0.2, 0.6 of 5 customers end after positions 1 and 3: A = {4}, B = {0, 2}, C = {3, 1}.
    assert assign_tiers(PREDICTED, [0.2, 0.6]).tolist() == ["B", "C", "B", "C", "A"]
    got = tier_table(ACTUAL, PREDICTED, [0.2, 0.6])
    assert got["tier"].tolist() == ["A", "B", "C"]
    assert got["customers"].tolist() == [1, 2, 2]
    np.testing.assert_allclose(got["customer_share"], [0.2, 0.4, 0.4])
    np.testing.assert_allclose(got["predicted"], [60, 55, 5])
    np.testing.assert_allclose(got["predicted_share"], [0.5, 55 / 120, 5 / 120])
    np.testing.assert_allclose(got["actual"], [55, 40, 5])
    np.testing.assert_allclose(got["actual_share"], [0.55, 0.40, 0.05])


def test_a_tier_can_be_empty() -> None:
    got = tier_table(ACTUAL, PREDICTED, [0.1, 0.2])  # both cuts end after the first customer
    assert got["customers"].tolist() == [1, 0, 4]


def test_value_metrics_names() -> None:
    got = value_metrics(ACTUAL, PREDICTED)
    assert list(got) == [
        "mae",
        "rmse",
        "normalized_gini",
        "aggregate_error_pct",
        "value_captured_at_10pct",
        "value_captured_at_20pct",
    ]
    assert got["normalized_gini"] == pytest.approx(23 / 27)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mae([1.0, -2.0], [1.0, 1.0]), "negative"),
        (lambda: mae([1.0, np.nan], [1.0, 1.0]), "NaN"),
        (lambda: mae([1.0], [1.0, 2.0]), "one of each"),
        (lambda: normalized_gini([0.0, 0.0], [1.0, 2.0]), "no customer spent"),
        (lambda: normalized_gini([3.0, 3.0], [1.0, 2.0]), "same actual value"),
        (lambda: value_captured(ACTUAL, PREDICTED, 0.0), "top share"),
        (lambda: tier_table(ACTUAL, PREDICTED, [0.6, 0.3]), "increase"),
        (lambda: tier_table(ACTUAL, PREDICTED, [1.0]), "increase"),
        (lambda: calibration_table(ACTUAL, PREDICTED, 6), "n_bins"),
    ],
)
def test_user_errors(call: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        call()  # type: ignore[operator]
