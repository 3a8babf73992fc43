"""The company: :class:`MarketingSimulator`, one seeded random stream per table."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

from growthlab.data.simulator.campaign import draw_campaign
from growthlab.data.simulator.customers import (
    _CustomerBase,
    customers_frame,
    draw_customer_base,
    draw_transactions,
)
from growthlab.data.simulator.interactions import draw_interactions
from growthlab.data.simulator.leads import draw_leads
from growthlab.data.simulator.profiles import PROFILE_ARCHETYPES, draw_customer_profiles
from growthlab.data.simulator.revenue import draw_revenue
from growthlab.errors import UserError, whole_number


class MarketingSimulator:
    """One seeded synthetic company; each public method returns one of its tables."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = whole_number(seed, "simulator seed", minimum=0)

    def _rng(self, table: str) -> np.random.Generator:
        """An independent stream per (seed, table), stable across Python runs."""
        return np.random.default_rng([self.seed, zlib.crc32(table.encode())])

    def leads(self, n_rows: int, start: str = "2024-01-01", days: int = 730) -> pd.DataFrame:
        """Inbound leads with engagement features, the true ``p_convert`` and ``converted``."""
        n = whole_number(n_rows, "n_rows")
        days = whole_number(days, "days")
        start_day = _parse_day(start, "start")
        rng = self._rng("leads")
        return draw_leads(rng, n, start_day, days)

    def campaign(self, n_customers: int, treated_share: float = 0.5) -> pd.DataFrame:
        """A randomised campaign: customer features, arm, outcome and the true uplift.

        ``treatment`` is 1 for contacted customers (a ``treated_share`` coin), ``converted``
        follows each customer's latent ``response_type``; ``p_control``, ``p_treated`` and
        ``true_uplift`` are the truth given the features (``campaign.py``).
        """
        n = whole_number(n_customers, "n_customers")
        if not isinstance(treated_share, int | float) or not 0 < treated_share < 1:
            raise UserError(f"treated_share must be in (0, 1) (got {treated_share!r})")
        return draw_campaign(self._rng("campaign"), n, float(treated_share))

    def customers(
        self, n_customers: int, start: str = "2023-01-01", days: int = 1095
    ) -> pd.DataFrame:
        """Customers with CRM columns and the latent truth of their buying process.

        CRM columns: ``customer_id`` (in sign-up order), ``email``, ``signup_date``,
        ``country``, ``acquisition_channel``, ``segment``. Latent truth: ``purchase_rate``
        (purchases per average year while alive), ``dropout_prob`` (chance of leaving for
        good after each purchase), ``mean_amount`` and ``dropout_at`` (timestamp of the
        purchase after which the customer left; NaT if still alive at the window's end).
        :meth:`transactions` with the same seed and arguments holds their purchases.
        """
        base = self._customer_base(n_customers, start, days)
        return customers_frame(base)

    def transactions(
        self, n_customers: int, start: str = "2023-01-01", days: int = 1095
    ) -> pd.DataFrame:
        """One row per purchase of the :meth:`customers` of the same seed and arguments.

        The first purchase is at sign-up; while alive, a customer buys at
        ``purchase_rate`` modulated by the yearly (Q4 peak), weekly and hourly profiles of
        their segment; after each purchase they leave for good with ``dropout_prob``.
        Purchases after the window's end are cut. Rows are in time order
        (``transaction_id`` 1..n); ``amount`` is the customer's ``mean_amount`` times
        log-normal noise; ``channel`` and ``product_category`` follow the customer's own
        mix, drawn around their segment's.
        """
        base = self._customer_base(n_customers, start, days)
        rng = self._rng("transactions")
        return draw_transactions(rng, base)

    def customer_profiles(self, n_customers: int, n_segments: int = 4) -> pd.DataFrame:
        """Customer features drawn around planted archetypes, kept as ``true_segment``."""
        n = whole_number(n_customers, "n_customers")
        k = whole_number(n_segments, "n_segments")
        if k > len(PROFILE_ARCHETYPES):
            raise UserError(f"n_segments must be at most {len(PROFILE_ARCHETYPES)} (got {k})")
        return draw_customer_profiles(self._rng("customer_profiles"), n, k)

    def interactions(
        self,
        n_customers: int,
        n_products: int = 500,
        start: str = "2024-01-01",
        days: int = 730,
        mean_products: float = 8.0,
    ) -> pd.DataFrame:
        """Customer x product purchase lines from latent tastes and a long-tailed popularity.

        Columns: ``customer_id``, ``product_id``, ``category`` (the product's), ``quantity``
        and ``timestamp``, in time order; see :mod:`~growthlab.data.simulator.interactions`.
        """
        n = whole_number(n_customers, "n_customers")
        m = whole_number(n_products, "n_products")
        days = whole_number(days, "days")
        if not isinstance(mean_products, int | float) or not 1 <= mean_products <= m:
            raise UserError(f"mean_products must be in [1, n_products] (got {mean_products!r})")
        start_day = _parse_day(start, "start")
        return draw_interactions(
            self._rng("interactions"), n, m, start_day, days, float(mean_products)
        )

    def revenue(
        self, n_regions: int = 5, start: str = "2023-01-01", days: int = 1095
    ) -> pd.DataFrame:
        """Daily revenue per channel x region with its planned promotions and ad spend.

        One row per (date, channel, region); ``expected_revenue`` is the noise-free truth
        (trend, weekly and yearly seasons, promotion lift, ad response: ``revenue.py``).
        """
        n_regions = whole_number(n_regions, "n_regions")
        days = whole_number(days, "days")
        start_day = _parse_day(start, "start")
        return draw_revenue(self._rng("revenue"), n_regions, start_day, days)

    def _customer_base(self, n_customers: int, start: str, days: int) -> _CustomerBase:
        """Everything per customer, from the "customers" stream (shared by both tables).

        Drawn by :func:`~growthlab.data.simulator.customers.draw_customer_base`, which
        says how the buying process is drawn without a loop over purchases.
        """
        n = whole_number(n_customers, "n_customers")
        days = whole_number(days, "days")
        start_day = _parse_day(start, "start")
        rng = self._rng("customers")
        return draw_customer_base(rng, n, start_day, days)


def _parse_day(value: Any, name: str) -> np.datetime64:
    """A day from anything pandas reads as a timestamp; a UserError otherwise."""
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{name} must be a date like '2024-01-01' (got {value!r})") from exc
    if pd.isna(day):
        raise UserError(f"{name} must be a date like '2024-01-01' (got {value!r})")
    return np.datetime64(day.date(), "D")
