"""Daily revenue per sales channel and region: a panel to forecast, with known drivers.

expected_revenue = level * growth ** years * weekday[channel] * yearly(day of year)
                   * (1 + PROMOTION_LIFT * promotion) * (1 + AD_MAX_LIFT * (1 - exp(-ad / k)))
revenue = expected_revenue * mean-one log-normal noise (REVENUE_NOISE_SIGMA).

Promotions (0/1) and ad spend are planned ahead: drivers known in advance. The yearly
profile is the customers' (clock.py: winter high, Black Friday, Christmas); the weekday
profile is the channel's own. expected_revenue is the latent truth, never a feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlab.data.simulator.clock import _yearly_profile
from growthlab.data.simulator.customers import PURCHASE_CHANNELS

REVENUE_CHANNELS = PURCHASE_CHANNELS  # web, app, store, marketplace
REVENUE_REGIONS: tuple[str, ...] = ("north", "south", "east", "west", "central")
# Monday..Sunday per channel (rows follow REVENUE_CHANNELS), each normalised to mean one.
REVENUE_WEEKDAY = np.array(
    [
        [1.05, 1.02, 1.00, 0.98, 0.95, 0.95, 1.05],
        [0.90, 0.88, 0.90, 0.95, 1.05, 1.15, 1.17],
        [0.80, 0.78, 0.82, 0.90, 1.10, 1.45, 1.15],
        [1.00, 0.98, 0.97, 0.98, 1.00, 1.02, 1.05],
    ]
)
REVENUE_LEVEL_LOG_MEAN = 8.0  # a series' daily revenue at the start: log-normal around ~3,000
REVENUE_LEVEL_LOG_SIGMA = 0.6
REVENUE_GROWTH_MEAN = 0.10  # yearly growth, drawn per series
REVENUE_GROWTH_SD = 0.08
PROMOTION_START_RATE = 1 / 30  # a promotion starts on ~one day a month...
PROMOTION_DAYS = (3, 7)  # ...and runs 3 to 7 days
PROMOTION_LIFT = 0.30
AD_SHARE = 0.05  # typical daily ad spend: this share of the series' starting level
AD_MAX_LIFT = 0.25  # the most ads can add, approached with diminishing returns
REVENUE_NOISE_SIGMA = 0.08


def region_names(n_regions: int) -> list[str]:
    """The named regions first, then region_006, region_007, ..."""
    named = list(REVENUE_REGIONS[:n_regions])
    return named + [f"region_{k:03d}" for k in range(len(named) + 1, n_regions + 1)]


def draw_revenue(
    rng: np.random.Generator, n_regions: int, start_day: np.datetime64, days: int
) -> pd.DataFrame:
    """The table of :meth:`MarketingSimulator.revenue`, drawn from the "revenue" stream."""
    regions = region_names(n_regions)
    n_series = len(REVENUE_CHANNELS) * n_regions
    channel = np.repeat(np.arange(len(REVENUE_CHANNELS)), n_regions)
    region = np.tile(np.arange(n_regions), len(REVENUE_CHANNELS))
    dates = pd.DatetimeIndex(start_day + np.arange(days).astype("timedelta64[D]"))
    level = rng.lognormal(REVENUE_LEVEL_LOG_MEAN, REVENUE_LEVEL_LOG_SIGMA, n_series)
    growth = 1 + rng.normal(REVENUE_GROWTH_MEAN, REVENUE_GROWTH_SD, n_series)
    years = np.arange(days) / 365.25
    weekday = REVENUE_WEEKDAY / REVENUE_WEEKDAY.mean(axis=1, keepdims=True)
    yearly = _yearly_profile(dates.day_of_year.to_numpy(float))
    yearly = yearly / _yearly_profile(np.arange(1, 366, dtype=float)).mean()
    promotion = _promotions(rng, n_series, days)
    typical = AD_SHARE * level[:, None]
    on = rng.random((n_series, (days + 6) // 7)) < 0.7  # ads run in weekly flights
    ad_spend = (
        typical * np.repeat(on, 7, axis=1)[:, :days] * rng.lognormal(0, 0.3, (n_series, days))
    )
    expected = (
        level[:, None]
        * growth[:, None] ** years[None, :]
        * weekday[channel][:, dates.day_of_week.to_numpy()]
        * yearly[None, :]
        * (1 + PROMOTION_LIFT * promotion)
        * (1 + AD_MAX_LIFT * (1 - np.exp(-ad_spend / typical)))
    )
    noise = rng.lognormal(-0.5 * REVENUE_NOISE_SIGMA**2, REVENUE_NOISE_SIGMA, expected.shape)
    return pd.DataFrame(
        {
            "date": np.tile(dates.to_numpy(), n_series),
            "channel": np.repeat(np.asarray(REVENUE_CHANNELS, dtype=object)[channel], days),
            "region": np.repeat(np.asarray(regions, dtype=object)[region], days),
            "revenue": np.round(expected * noise, 2).ravel(),
            "promotion": promotion.ravel().astype(np.int64),
            "ad_spend": np.round(ad_spend, 2).ravel(),
            "expected_revenue": expected.ravel(),
        }
    )


def _promotions(rng: np.random.Generator, n_series: int, days: int) -> np.ndarray:
    """0/1 per series and day: runs of PROMOTION_DAYS starting at PROMOTION_START_RATE."""
    starts = rng.random((n_series, days)) < PROMOTION_START_RATE
    lengths = rng.integers(PROMOTION_DAYS[0], PROMOTION_DAYS[1] + 1, (n_series, days))
    # A day is promoted when some start within the last `length` days covers it.
    ends = np.where(starts, np.arange(days)[None, :] + lengths, -1)
    running = np.maximum.accumulate(ends, axis=1)
    return (running > np.arange(days)[None, :]).astype(float)
