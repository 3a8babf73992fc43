"""Customer profiles with planted segments: a feature table whose true grouping is known.

Each customer belongs to one of ``n_segments`` archetypes (the first ones of
``PROFILE_ARCHETYPES``, drawn with ``PROFILE_SEGMENT_WEIGHTS`` renormalised); every
behavioural column is drawn around its archetype's mean with the noise below, so a clustering
of the standardised (log-scaled where skewed) columns can recover the archetypes. ``region``
is the same mix in every archetype: pure noise that a segmenter must ignore. The archetype is
kept as ``true_segment`` (the oracle a test scores a segmentation against, never a feature).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlab.data.simulator.draws import _conditional_categorical, _strings

# name: (orders per year, mean order value, days since last order, discount share,
#        email open rate, web sessions per month)
PROFILE_ARCHETYPES: dict[str, tuple[float, float, float, float, float, float]] = {
    "loyal_big_spenders": (30.0, 160.0, 10.0, 0.05, 0.60, 22.0),
    "bargain_hunters": (12.0, 30.0, 35.0, 0.65, 0.35, 10.0),
    "occasional_buyers": (4.0, 80.0, 120.0, 0.30, 0.20, 4.0),
    "lapsed": (1.0, 50.0, 600.0, 0.05, 0.02, 0.3),
    "new_browsers": (1.5, 40.0, 20.0, 0.10, 0.70, 35.0),
    "premium_rare": (3.0, 700.0, 90.0, 0.02, 0.25, 3.0),
}
PROFILE_SEGMENT_WEIGHTS = np.array([0.15, 0.25, 0.25, 0.15, 0.12, 0.08])
PROFILE_DEVICES = ("desktop", "mobile", "tablet")
PROFILE_DEVICE_P = np.array(
    [
        [0.60, 0.30, 0.10],
        [0.25, 0.65, 0.10],
        [0.45, 0.40, 0.15],
        [0.50, 0.35, 0.15],
        [0.15, 0.80, 0.05],
        [0.70, 0.15, 0.15],
    ]
)
PROFILE_REGIONS = ("north", "south", "east", "west")
PROFILE_LOG_SIGMA = 0.15  # multiplicative noise of counts, values and days around the mean
PROFILE_SHARE_CONCENTRATION = 60.0  # Beta concentration of the two shares around the mean
PROFILE_OPEN_RATE_MISSING = 0.05  # customers without email tracking: blank open rate


def draw_customer_profiles(rng: np.random.Generator, n: int, n_segments: int) -> pd.DataFrame:
    """One row per customer: id, behaviour, device, region and the planted ``true_segment``."""
    names = list(PROFILE_ARCHETYPES)[:n_segments]
    means = np.array([PROFILE_ARCHETYPES[name] for name in names])
    weights = PROFILE_SEGMENT_WEIGHTS[:n_segments] / PROFILE_SEGMENT_WEIGHTS[:n_segments].sum()
    segment = rng.choice(n_segments, size=n, p=weights)
    m = means[segment]

    def around(mean: np.ndarray) -> np.ndarray:
        return mean * np.exp(rng.normal(0.0, PROFILE_LOG_SIGMA, n))

    def share(mean: np.ndarray) -> np.ndarray:
        c = PROFILE_SHARE_CONCENTRATION
        return rng.beta(mean * c, (1 - mean) * c)

    open_rate = share(m[:, 4])
    open_rate[rng.random(n) < PROFILE_OPEN_RATE_MISSING] = np.nan
    device = _conditional_categorical(rng, segment, PROFILE_DEVICE_P[:n_segments])
    region = rng.integers(0, len(PROFILE_REGIONS), n)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "orders_per_year": np.round(around(m[:, 0]), 1),
            "avg_order_value": np.round(around(m[:, 1]), 2),
            "days_since_last_order": np.round(around(m[:, 2])),
            "discount_share": share(m[:, 3]),
            "email_open_rate": open_rate,
            "sessions_per_month": np.round(around(m[:, 5]), 1),
            "preferred_device": _strings(device, PROFILE_DEVICES),
            "region": _strings(region, PROFILE_REGIONS),
            "true_segment": _strings(segment, names),
        }
    )
