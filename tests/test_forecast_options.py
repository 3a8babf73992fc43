"""The global forecaster's accuracy options: the seasonal-index feature and recency weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from growthlab.data import panel
from growthlab.data.panel import FUTURE, SERIES, TARGET, TIME
from growthlab.errors import UserError
from growthlab.models.forecasters import GlobalBoosted


def daily_panel(n_series: int = 3, days: int = 120) -> pd.DataFrame:
    """A canonical panel of weekly-seasonal sales, its last 7 days to forecast."""
    rng = np.random.default_rng(0)
    t = np.arange(days)
    frames = [
        pd.DataFrame(
            {
                SERIES: f"s{s}",
                TIME: pd.date_range("2024-01-01", periods=days, freq="D"),
                TARGET: (50 + 10 * s) * (1 + 0.3 * np.sin(2 * np.pi * t / 7))
                + rng.normal(0, 1, days),
                FUTURE: t >= days - 7,
            }
        )
        for s in range(n_series)
    ]
    return pd.concat(frames, ignore_index=True)


def test_season_index_averages_each_past_season_against_its_own_mean() -> None:
    # season 2: periods (a, b) repeat with a growing level; the index of period t is the mean
    # over k of y[t - 2k] / mean(y[t - 2k - 1], y[t - 2k])
    values = np.array([[1.0, 3.0, 2.0, 6.0, 4.0, 12.0, np.nan, np.nan]])
    cols = np.array([6, 7])
    found = panel.season_index(values, cols, season=2, seasons=2)
    by_hand_6 = np.mean([4.0 / np.mean([6.0, 4.0]), 2.0 / np.mean([3.0, 2.0])])
    by_hand_7 = np.mean([12.0 / np.mean([4.0, 12.0]), 6.0 / np.mean([2.0, 6.0])])
    np.testing.assert_allclose(found, [[by_hand_6, by_hand_7]])
    # a direct model's gap leaves out the seasons that end after its last known period
    gap = panel.season_index(values, cols, season=2, seasons=2, end=3)
    np.testing.assert_allclose(gap[0, 0], 2.0 / np.mean([3.0, 2.0]))


def test_profile_adds_the_seasonal_index_feature() -> None:
    frame = daily_panel()
    fit = {"n_estimators": 30, "n_jobs": 1}
    model = GlobalBoosted(**fit, profile=3).fit(frame)
    assert "profile" in model.feature_names_
    assert "profile" not in GlobalBoosted(**fit).fit(frame).feature_names_
    forecast = model.predict(frame)
    actual = frame.loc[frame[FUTURE], TARGET].to_numpy()
    assert np.mean(np.abs(forecast - actual)) < 0.2 * np.mean(actual)


def test_halflife_weighs_rows_by_their_age() -> None:
    model = GlobalBoosted(halflife=2.0)
    weights = model._recency(np.array([1, 2, 3, 4, 5]), n_series=2)
    np.testing.assert_allclose(weights, np.tile([0.25, 0.5**1.5, 0.5, 0.5**0.5, 1.0], 2))
    np.testing.assert_array_equal(GlobalBoosted()._recency(np.array([1, 2]), 1), [1.0, 1.0])
    frame = daily_panel()
    weighted = GlobalBoosted(n_estimators=10, n_jobs=1, halflife=14).fit(frame).predict(frame)
    plain = GlobalBoosted(n_estimators=10, n_jobs=1).fit(frame).predict(frame)
    assert np.isfinite(weighted).all() and not np.allclose(weighted, plain)


def test_weekdays_counts_the_working_days_of_each_month() -> None:
    months = pd.date_range("2024-01-01", periods=3, freq="MS")
    found = panel.calendar(months, "MS", weekdays=True)
    np.testing.assert_array_equal(found["weekdays"], [23, 21, 21])  # from a 2024 wall calendar
    assert "weekdays" not in panel.calendar(months, "MS")
    assert "weekdays" not in panel.calendar(pd.date_range("2024-01-01", periods=3), "D", True)


@pytest.mark.parametrize(
    ("options", "hint"),
    [
        ({"profile": -1}, "model.profile=-1; use a number of past seasons, 0 = off"),
        ({"profile": 1.5}, "model.profile=1.5; use a number of past seasons"),
        ({"halflife": 0}, "model.halflife=0; use a positive number of periods or null"),
        ({"halflife": "long"}, "model.halflife='long'; use a positive number"),
        ({"weekdays": "yes"}, "model.weekdays='yes'; use true or false"),
    ],
)
def test_bad_accuracy_options_are_one_line(options: dict, hint: str) -> None:
    frame = daily_panel(n_series=1, days=40)
    with pytest.raises(UserError) as raised:
        GlobalBoosted(n_estimators=5, n_jobs=1, **options).fit(frame)
    assert hint in str(raised.value) and "\n" not in str(raised.value)
