"""Forecast metrics against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from growthlab.data.panel import seasonal_naive
from growthlab.metrics.forecast import forecast_metrics, mase, naive_scale


def test_every_metric_by_hand() -> None:
    actual = [10.0, 20.0, 30.0, 40.0]
    forecast = [12.0, 18.0, 33.0, 40.0]
    scale = [2.0, 2.0, 4.0, 4.0]
    m = forecast_metrics(actual, forecast, scale)
    # errors f - a: +2, -2, +3, 0
    assert m["mae"] == pytest.approx((2 + 2 + 3 + 0) / 4)
    assert m["rmse"] == pytest.approx(math.sqrt((4 + 4 + 9 + 0) / 4))
    assert m["wape"] == pytest.approx(7 / 100)
    smape = (2 * 2 / 22 + 2 * 2 / 38 + 2 * 3 / 63 + 0) / 4
    assert m["smape"] == pytest.approx(smape)
    assert m["mase"] == pytest.approx((2 / 2 + 2 / 2 + 3 / 4 + 0 / 4) / 4)
    assert m["bias"] == pytest.approx(3 / 4)
    assert m["abs_bias"] == pytest.approx(3 / 4)


def test_unknown_actuals_are_left_out_and_zero_scales_only_from_mase() -> None:
    m = forecast_metrics([1.0, np.nan, 3.0], [2.0, 100.0, 1.0], [np.nan, 1.0, 2.0])
    assert m["mae"] == pytest.approx(1.5)
    assert m["mase"] == pytest.approx(2 / 2)  # the first cell has no scale
    assert m["bias"] == pytest.approx((1 - 2) / 2)
    assert mase([1.0, np.nan, 3.0], [2.0, 100.0, 1.0], [np.nan, 1.0, 2.0]) == pytest.approx(1.0)


def test_smape_counts_zero_over_zero_as_zero() -> None:
    assert forecast_metrics([0.0, 2.0], [0.0, 1.0], [1.0, 1.0])["smape"] == pytest.approx(
        (0 + 2 * 1 / 3) / 2
    )


def test_naive_scale_is_the_in_sample_seasonal_naive_mae() -> None:
    history = np.array([[1.0, 2.0, 4.0, 3.0, 5.0, 9.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    scales = naive_scale(history, season=2)
    # |4-1|, |3-2|, |5-4|, |9-3| -> mean 11 / 4; a constant series has no scale
    assert scales[0] == pytest.approx(11 / 4)
    assert np.isnan(scales[1])


def test_naive_scale_skips_gaps_and_falls_back_to_season_one_when_short() -> None:
    gappy = np.array([[1.0, np.nan, 4.0, 6.0]])
    assert naive_scale(gappy, 2)[0] == pytest.approx(3.0)  # |4 - 1|; |6 - nan| is no pair
    short = np.array([[1.0, 3.0, 2.0]])
    assert naive_scale(short, 7)[0] == pytest.approx((2 + 1) / 2)


def test_seasonal_naive_picks_one_season_back_and_falls_back_to_naive() -> None:
    history = np.array([[1.0, 2.0, 3.0, 4.0, np.nan], [np.nan, np.nan, np.nan, 7.0, 8.0]])
    series = np.array([0, 0, 0, 0, 1, 1])
    last = np.array([3, 3, 3, 3, 4, 4])
    steps = np.array([1, 2, 3, 4, 1, 2])
    got = seasonal_naive(history, series, last, steps, season=3)
    np.testing.assert_array_equal(got, [2.0, 3.0, 4.0, 2.0, 8.0, 8.0])
