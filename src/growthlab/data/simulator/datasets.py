"""The simulator's tables as datasets (``_target_`` of Hydra configs) and their roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from growthlab.data.dataset import Columns, Dataset
from growthlab.data.simulator.company import MarketingSimulator, _parse_day
from growthlab.errors import UserError, whole_number

# Roles of the leads columns, for configs and tests that want the standard setup.
LEADS_COLUMNS: dict[str, Any] = {
    "id": "lead_id",
    "target": "converted",
    "positive_label": 1,
    "time": "created_at",
    "oracle": "p_convert",
    "pii": ["email"],
}


class SimulatedLeads(Dataset):
    """The simulator's leads table as a dataset (``_target_`` of a Hydra config)."""

    MIN_ROWS = 100  # below this, splits and CV folds hold almost no conversions

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_rows: int = 50_000,
        seed: int = 0,
        start: str = "2024-01-01",
        days: int = 730,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        hint = "set dataset.n_rows=50000 in the config or on the command line"
        self.n_rows = whole_number(n_rows, "dataset.n_rows", minimum=self.MIN_ROWS, hint=hint)
        self.seed = whole_number(seed, "dataset.seed", minimum=0)
        self.days = whole_number(days, "dataset.days")
        _parse_day(start, "dataset.start")
        self.start = str(start)

    def read(self) -> pd.DataFrame:
        """Generate the leads table (deterministic for the configured seed)."""
        return MarketingSimulator(self.seed).leads(self.n_rows, start=self.start, days=self.days)


# Roles of the campaign's columns: the latent truth is dropped, the true uplift is the oracle.
CAMPAIGN_COLUMNS: dict[str, Any] = {
    "id": "customer_id",
    "target": "converted",
    "positive_label": 1,
    "treatment": "treatment",
    "oracle": "true_uplift",
    "drop": ["response_type", "p_control", "p_treated"],
}


class SimulatedCampaign(Dataset):
    """A randomised campaign with a known per-customer uplift (``_target_`` of a config)."""

    MIN_ROWS = 1000  # a 2-point effect is invisible in fewer rows

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_customers: int = 50_000,
        treated_share: float = 0.5,
        seed: int = 0,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        hint = "set dataset.n_customers=50000 in the config or on the command line"
        self.n_customers = whole_number(
            n_customers, "dataset.n_customers", minimum=self.MIN_ROWS, hint=hint
        )
        if not isinstance(treated_share, int | float) or not 0 < treated_share < 1:
            raise UserError(f"dataset.treated_share must be in (0, 1) (got {treated_share!r})")
        self.treated_share = float(treated_share)
        self.seed = whole_number(seed, "dataset.seed", minimum=0)

    def read(self) -> pd.DataFrame:
        """Generate the campaign table (deterministic for the seed)."""
        return MarketingSimulator(self.seed).campaign(self.n_customers, self.treated_share)


# Roles of the customer tables' columns, for configs and tests that want the standard setup.
CUSTOMERS_COLUMNS: dict[str, Any] = {"id": "customer_id", "time": "signup_date", "pii": ["email"]}
TRANSACTIONS_COLUMNS: dict[str, Any] = {
    "id": "transaction_id",
    "time": "timestamp",
    "drop": ["customer_id"],
}
# What a CRM knows about a customer: SimulatedCustomers keeps these and hides the truth.
CRM_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "email",
    "signup_date",
    "country",
    "acquisition_channel",
    "segment",
)


class _SimulatedCustomerTable(Dataset):
    """Shared arguments of the datasets built on the simulated customer base."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_customers: int = 20_000,
        seed: int = 0,
        start: str = "2023-01-01",
        days: int = 1095,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        hint = "set dataset.n_customers=20000 in the config or on the command line"
        self.n_customers = whole_number(n_customers, "dataset.n_customers", hint=hint)
        self.seed = whole_number(seed, "dataset.seed", minimum=0)
        self.days = whole_number(days, "dataset.days")
        _parse_day(start, "dataset.start")
        self.start = str(start)


class SimulatedCustomers(_SimulatedCustomerTable):
    """The simulated customers as a CRM sees them: no latent truth (``_target_`` of a config)."""

    def read(self) -> pd.DataFrame:
        """Generate the customers table's CRM columns (deterministic for the seed)."""
        frame = MarketingSimulator(self.seed).customers(
            self.n_customers, start=self.start, days=self.days
        )
        return frame[list(CRM_COLUMNS)]


class SimulatedTransactions(_SimulatedCustomerTable):
    """The simulated customers' purchases, one row each (``_target_`` of a config)."""

    def read(self) -> pd.DataFrame:
        """Generate the transactions table (deterministic for the seed)."""
        return MarketingSimulator(self.seed).transactions(
            self.n_customers, start=self.start, days=self.days
        )


# Roles of the interactions' columns: who, what, how many, when; category is an item attribute.
INTERACTIONS_COLUMNS: dict[str, Any] = {
    "user": "customer_id",
    "item": "product_id",
    "weight": "quantity",
    "time": "timestamp",
    "categorical": ["category"],
}


class SimulatedInteractions(Dataset):
    """Customer x product purchases with planted tastes (``_target_`` of a Hydra config)."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_customers: int = 5_000,
        n_products: int = 300,
        mean_products: float = 8.0,
        seed: int = 0,
        start: str = "2024-01-01",
        days: int = 730,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        for key, value in (("n_customers", n_customers), ("n_products", n_products)):
            whole_number(value, f"dataset.{key}")
        self.seed = whole_number(seed, "dataset.seed", minimum=0)
        self.days = whole_number(days, "dataset.days")
        if not isinstance(mean_products, int | float) or not 1 <= mean_products <= n_products:
            raise UserError(
                f"dataset.mean_products must be between 1 and n_products (got {mean_products!r})"
            )
        _parse_day(start, "dataset.start")
        self.n_customers = int(n_customers)
        self.n_products = int(n_products)
        self.mean_products = float(mean_products)
        self.start = str(start)

    def read(self) -> pd.DataFrame:
        """Generate the purchase lines (deterministic for the seed)."""
        return MarketingSimulator(self.seed).interactions(
            self.n_customers, self.n_products, self.start, self.days, self.mean_products
        )


class SimulatedCustomerProfiles(Dataset):
    """Customer features with planted segments (``true_segment``): ``_target_`` of a config."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_customers: int = 5000,
        n_segments: int = 4,
        seed: int = 0,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        for key, value in (("n_customers", n_customers), ("n_segments", n_segments)):
            whole_number(value, f"dataset.{key}")
        whole_number(seed, "dataset.seed", minimum=0)
        self.n_customers, self.n_segments, self.seed = int(n_customers), int(n_segments), int(seed)

    def read(self) -> pd.DataFrame:
        """Generate the profiles table (deterministic for the seed)."""
        return MarketingSimulator(self.seed).customer_profiles(self.n_customers, self.n_segments)


# Roles of the revenue panel's columns, for configs and tests that want the standard setup.
REVENUE_COLUMNS: dict[str, Any] = {
    "series": ["channel", "region"],
    "time": "date",
    "target": "revenue",
    "known": ["promotion", "ad_spend"],
    "drop": ["expected_revenue"],
}


class SimulatedRevenue(Dataset):
    """Daily revenue per channel x region with promotions and ad spend (``_target_``)."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_regions: int = 5,
        seed: int = 0,
        start: str = "2023-01-01",
        days: int = 1095,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        self.n_regions = whole_number(n_regions, "dataset.n_regions")
        self.seed = whole_number(seed, "dataset.seed", minimum=0)
        self.days = whole_number(days, "dataset.days")
        _parse_day(start, "dataset.start")
        self.start = str(start)

    def read(self) -> pd.DataFrame:
        """Generate the revenue panel (deterministic for the seed)."""
        return MarketingSimulator(self.seed).revenue(self.n_regions, self.start, self.days)
