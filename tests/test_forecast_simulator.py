"""The simulated revenue panel: shape, determinism, and the effects it promises."""

from __future__ import annotations

import numpy as np
import pytest

from growthlab.data.simulator import (
    REVENUE_COLUMNS,
    MarketingSimulator,
    SimulatedRevenue,
)
from growthlab.data.simulator.revenue import PROMOTION_LIFT, REVENUE_CHANNELS
from growthlab.errors import UserError


def test_one_row_per_series_and_day_and_the_same_rows_for_a_seed() -> None:
    frame = MarketingSimulator(3).revenue(n_regions=7, days=50)
    assert len(frame) == 4 * 7 * 50
    assert not frame.duplicated(["channel", "region", "date"]).any()
    assert set(frame["channel"]) == set(REVENUE_CHANNELS)
    assert frame["region"].nunique() == 7 and "region_007" in set(frame["region"])
    assert (frame["revenue"] > 0).all() and set(frame["promotion"].unique()) <= {0, 1}
    again = MarketingSimulator(3).revenue(n_regions=7, days=50)
    assert frame.equals(again)
    assert not frame.equals(MarketingSimulator(4).revenue(n_regions=7, days=50))


def test_promotions_lift_and_weekdays_shape_the_truth() -> None:
    frame = MarketingSimulator(0).revenue(n_regions=5, days=730)
    assert 0.05 < frame["promotion"].mean() < 0.3
    # Same series, same season: the truth on promoted days is ~PROMOTION_LIFT higher.
    ratio = frame.groupby(["channel", "region", "promotion"])["expected_revenue"].mean().unstack()
    lift = (ratio[1] / ratio[0]).median() - 1
    assert lift == pytest.approx(PROMOTION_LIFT, abs=0.08)
    store = frame[frame["channel"] == "store"]
    by_day = store.groupby(store["date"].dt.day_of_week)["expected_revenue"].mean()
    assert by_day.idxmax() == 5  # stores peak on Saturdays
    noise = np.log(frame["revenue"] / frame["expected_revenue"])
    assert abs(noise.mean()) < 0.01 and 0.05 < noise.std() < 0.12


def test_dataset_wrapper_checks_its_arguments() -> None:
    frame = SimulatedRevenue("r", REVENUE_COLUMNS, n_regions=1, days=20).load()
    assert list(frame.columns[:6]) == [
        "date",
        "channel",
        "region",
        "revenue",
        "promotion",
        "ad_spend",
    ]
    with pytest.raises(UserError, match="n_regions"):
        SimulatedRevenue("r", REVENUE_COLUMNS, n_regions=0)
    with pytest.raises(UserError, match="dataset.start"):
        SimulatedRevenue("r", REVENUE_COLUMNS, start="someday")
