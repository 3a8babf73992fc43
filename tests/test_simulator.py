"""The synthetic company: deterministic, realistic enough, PII-safe, and honest about its oracle."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from growthlab.data.dataset import Dataset
from growthlab.data.simulator import (
    CAMPAIGN_NAMES,
    CAMPAIGNS,
    CHANNELS,
    COMPANY_SIZES,
    COUNTRIES,
    CRM_COLUMNS,
    CUSTOMERS_COLUMNS,
    DEVICES,
    LEADS_COLUMNS,
    PRODUCT_CATEGORIES,
    PURCHASE_CHANNELS,
    SEGMENTS,
    SENIORITIES,
    TRANSACTIONS_COLUMNS,
    MarketingSimulator,
    SimulatedCustomers,
    SimulatedLeads,
    SimulatedTransactions,
    main,
)
from growthlab.errors import UserError

# The same pattern the PII scan over the MLflow store uses.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.example")

STRING_COLUMNS = [
    "email",
    "channel",
    "campaign",
    "device",
    "country",
    "company_size",
    "job_seniority",
]
INT_COLUMNS = [
    "lead_id",
    "pages_viewed",
    "email_opens",
    "email_clicks",
    "form_fills",
    "days_since_first_touch",
    "converted",
]
EXPECTED_COLUMNS = [
    "lead_id",
    "email",
    "created_at",
    "channel",
    "campaign",
    "device",
    "country",
    "company_size",
    "job_seniority",
    "pages_viewed",
    "email_opens",
    "email_clicks",
    "form_fills",
    "webinar_attended",
    "days_since_first_touch",
    "converted",
    "p_convert",
]


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return MarketingSimulator(seed=0).leads(20_000)


def test_same_seed_gives_identical_frame() -> None:
    a = MarketingSimulator(3).leads(2_000)
    b = MarketingSimulator(3).leads(2_000)
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_differ() -> None:
    a = MarketingSimulator(1).leads(2_000)
    b = MarketingSimulator(2).leads(2_000)
    assert not a["email"].equals(b["email"])
    assert not np.allclose(a["p_convert"], b["p_convert"])


def test_columns_and_dtypes(leads: pd.DataFrame) -> None:
    assert list(leads.columns) == EXPECTED_COLUMNS
    assert len(leads) == 20_000
    assert leads["lead_id"].tolist() == list(range(1, 20_001))
    for col in INT_COLUMNS:
        assert leads[col].dtype == np.int64, col
    for col in STRING_COLUMNS:
        # Raw strings (object or pandas' default str), never category: the framework encodes.
        assert not isinstance(leads[col].dtype, pd.CategoricalDtype), col
        assert pd.api.types.is_string_dtype(leads[col]) or leads[col].dtype == object, col
    assert leads["webinar_attended"].dtype == bool
    assert leads["p_convert"].dtype == np.float64
    assert pd.api.types.is_datetime64_any_dtype(leads["created_at"])


def test_category_levels(leads: pd.DataFrame) -> None:
    assert set(leads["channel"]) == set(CHANNELS)
    assert set(leads["campaign"]) == set(CAMPAIGN_NAMES)
    assert 12 <= len(CAMPAIGN_NAMES) <= 18
    assert set(leads["device"]) == set(DEVICES)
    assert set(leads["country"]) == set(COUNTRIES)
    assert set(leads["company_size"].dropna()) == set(COMPANY_SIZES)
    assert set(leads["job_seniority"].dropna()) == set(SENIORITIES)
    # A campaign only ever appears under its own channel.
    allowed = {(ch, c) for ch, campaigns in CAMPAIGNS.items() for c, _ in campaigns}
    pairs = set(zip(leads["channel"], leads["campaign"], strict=True))
    assert pairs <= allowed


def test_dates_span_window_with_growth(leads: pd.DataFrame) -> None:
    created = leads["created_at"]
    assert created.min() >= pd.Timestamp("2024-01-01")
    assert created.max() < pd.Timestamp("2024-01-01") + pd.Timedelta(days=730)
    assert created.is_monotonic_increasing  # lead ids follow creation order
    first_year = (created < pd.Timestamp("2025-01-01")).sum()
    assert first_year < len(created) - first_year  # volume grows
    custom = MarketingSimulator(0).leads(500, start="2023-06-15", days=10)["created_at"]
    assert custom.min() >= pd.Timestamp("2023-06-15")
    assert custom.max() <= pd.Timestamp("2023-06-24")


def test_emails_unique_and_reserved_domain(leads: pd.DataFrame) -> None:
    emails = leads["email"]
    assert emails.is_unique
    assert emails.map(lambda e: EMAIL.fullmatch(e) is not None).all()
    assert emails.str.endswith(".example").all()


def test_emails_unique_when_names_collide_a_lot() -> None:
    # 200k rows over ~290k name stems force many repeats through the dedupe path.
    emails = MarketingSimulator(5).leads(200_000)["email"]
    assert emails.is_unique
    assert emails.str.fullmatch(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.example").all()


def test_counts_are_consistent(leads: pd.DataFrame) -> None:
    assert (leads["email_clicks"] <= leads["email_opens"]).all()
    assert (leads["pages_viewed"] >= 1).all()
    for col in ["email_opens", "email_clicks", "form_fills", "days_since_first_touch"]:
        assert (leads[col] >= 0).all(), col
    # Skewed counts: a long right tail above the median.
    assert leads["pages_viewed"].quantile(0.99) > 3 * leads["pages_viewed"].median()
    assert 0.02 < leads["webinar_attended"].mean() < 0.3


def test_missing_rates_roughly_as_designed(leads: pd.DataFrame) -> None:
    assert 0.03 < leads["company_size"].isna().mean() < 0.07
    assert 0.06 < leads["job_seniority"].isna().mean() < 0.10
    others = leads.drop(columns=["company_size", "job_seniority"])
    assert not others.isna().any().any()


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_base_rate(seed: int) -> None:
    frame = MarketingSimulator(seed).leads(20_000)
    assert 0.02 <= frame["converted"].mean() <= 0.10
    assert set(frame["converted"].unique()) <= {0, 1}


def test_oracle_is_a_probability_with_plausible_auc(leads: pd.DataFrame) -> None:
    p = leads["p_convert"]
    assert ((p > 0) & (p < 1)).all()
    # Converted is drawn from p: the mean converted rate tracks the mean probability.
    assert abs(leads["converted"].mean() - p.mean()) < 0.01
    auc = roc_auc_score(leads["converted"], p)
    assert 0.75 < auc < 0.92


def test_oracle_depends_on_observed_columns_only() -> None:
    # Rows identical in every observed feature share one probability.
    frame = MarketingSimulator(0).leads(20_000)
    features = [
        c
        for c in EXPECTED_COLUMNS
        if c not in {"lead_id", "email", "created_at", "converted", "p_convert"}
    ]
    spread = (
        frame.fillna({"company_size": "?", "job_seniority": "?"})
        .groupby(features)["p_convert"]
        .agg(lambda s: s.max() - s.min())
    )
    assert spread.max() < 1e-12


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "many"])
def test_simulator_rejects_bad_n_rows(bad: object) -> None:
    with pytest.raises(UserError, match="n_rows"):
        MarketingSimulator(0).leads(bad)  # type: ignore[arg-type]


def test_simulator_rejects_bad_start_and_seed() -> None:
    with pytest.raises(UserError, match="start"):
        MarketingSimulator(0).leads(100, start="not a date")
    with pytest.raises(UserError, match="seed"):
        MarketingSimulator(-1)


def test_dataset_loads_the_simulated_table() -> None:
    ds = SimulatedLeads(name="leads", columns=LEADS_COLUMNS, n_rows=1_000, seed=7)
    assert isinstance(ds, Dataset)
    frame = ds.load()
    pd.testing.assert_frame_equal(frame, MarketingSimulator(7).leads(1_000))
    ds.columns.check(frame, "the simulated leads")
    assert ds.columns.oracle == "p_convert"
    assert "email" not in ds.columns.features(frame).columns


@pytest.mark.parametrize("bad", [0, 5, -1, 99])
def test_dataset_rejects_too_few_rows(bad: int) -> None:
    with pytest.raises(UserError, match=r"dataset\.n_rows must be .* at least 100") as info:
        SimulatedLeads(name="leads", columns=LEADS_COLUMNS, n_rows=bad)
    assert "\n" not in str(info.value)


def test_dataset_rejects_bad_start() -> None:
    with pytest.raises(UserError, match=r"dataset\.start"):
        SimulatedLeads(name="leads", columns=LEADS_COLUMNS, start="yesterday-ish")


def test_dataset_builds_from_hydra_yaml() -> None:
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(
        "_target_: growthlab.data.simulator.SimulatedLeads\n"
        "name: leads\n"
        "n_rows: 500\n"
        "seed: 3\n"
        "start: 2024-03-01\n"
        "columns: {id: lead_id, target: converted, positive_label: 1, time: created_at,\n"
        "          oracle: p_convert, pii: [email]}\n"
    )
    ds = instantiate(cfg)
    assert isinstance(ds, SimulatedLeads)
    assert ds.columns.pii == ["email"]
    frame = ds.load()
    assert len(frame) == 500
    assert frame["created_at"].min() >= pd.Timestamp("2024-03-01")


# ---------------------------------------------------------------------------
# Customers and transactions.
# ---------------------------------------------------------------------------

# sha256 of MarketingSimulator(0).leads(5000) as CSV with floats to 10 significant digits:
# new tables must never move the leads of a seed. Rounded because numpy's exp differs in the
# last bit between CPUs (SIMD paths): the full-precision hash moved with the machine, not the code.
LEADS_SEED0_SHA256 = "5dfd8e41c8cccd525cd30b3c58e7554b20bac2ce6b4e722f42d9734985674b9e"

CUSTOMER_COLUMNS = [
    *CRM_COLUMNS,
    "purchase_rate",
    "dropout_prob",
    "mean_amount",
    "dropout_at",
]
TRANSACTION_COLUMNS = [
    "transaction_id",
    "customer_id",
    "timestamp",
    "amount",
    "channel",
    "product_category",
]
WINDOW_START = pd.Timestamp("2023-01-01")
WINDOW_END = WINDOW_START + pd.Timedelta(days=1095)


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return MarketingSimulator(seed=0).customers(20_000)


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return MarketingSimulator(seed=0).transactions(20_000)


@pytest.fixture(scope="module")
def purchases(customers: pd.DataFrame, transactions: pd.DataFrame) -> pd.DataFrame:
    """Per customer: number of purchases, first and last purchase."""
    stats = transactions.groupby("customer_id")["timestamp"].agg(["size", "min", "max"])
    return stats.reindex(customers["customer_id"])


def test_leads_unchanged_for_seed_0() -> None:
    frame = MarketingSimulator(0).leads(5_000)
    text = frame.to_csv(index=False, float_format="%.10g")
    assert hashlib.sha256(text.encode()).hexdigest() == LEADS_SEED0_SHA256


def test_customers_columns_and_dtypes(customers: pd.DataFrame) -> None:
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert customers["customer_id"].tolist() == list(range(1, 20_001))
    assert customers["customer_id"].dtype == np.int64
    for col in ["email", "country", "acquisition_channel", "segment"]:
        assert not isinstance(customers[col].dtype, pd.CategoricalDtype), col
        assert pd.api.types.is_string_dtype(customers[col]), col
    for col in ["purchase_rate", "dropout_prob", "mean_amount"]:
        assert customers[col].dtype == np.float64, col
    for col in ["signup_date", "dropout_at"]:
        assert pd.api.types.is_datetime64_any_dtype(customers[col]), col
    assert set(customers["acquisition_channel"]) == set(CHANNELS)
    assert set(customers["country"]) == set(COUNTRIES)
    assert set(customers["segment"]) == set(SEGMENTS)
    emails = customers["email"]
    assert emails.is_unique
    assert emails.map(lambda e: EMAIL.fullmatch(e) is not None).all()
    # Ids follow sign-up order; sign-ups are dates (midnight) that grow over the window.
    signup = customers["signup_date"]
    assert signup.is_monotonic_increasing
    assert (signup == signup.dt.normalize()).all()
    assert (signup < WINDOW_START + pd.Timedelta(days=365)).sum() < len(signup) / 3
    # The latent truth is a proper parameter set.
    assert (customers["purchase_rate"] > 0).all()
    assert ((customers["dropout_prob"] > 0) & (customers["dropout_prob"] <= 1)).all()
    assert (customers["mean_amount"] > 0).all()
    assert not customers.drop(columns="dropout_at").isna().any().any()


def test_transactions_columns_and_dtypes(transactions: pd.DataFrame) -> None:
    assert list(transactions.columns) == TRANSACTION_COLUMNS
    assert np.array_equal(transactions["transaction_id"], np.arange(1, len(transactions) + 1))
    for col in ["transaction_id", "customer_id"]:
        assert transactions[col].dtype == np.int64, col
    assert pd.api.types.is_datetime64_any_dtype(transactions["timestamp"])
    assert transactions["timestamp"].is_monotonic_increasing  # ids follow time
    assert transactions["amount"].dtype == np.float64
    assert set(transactions["channel"].unique()) == set(PURCHASE_CHANNELS)
    assert set(transactions["product_category"].unique()) == set(PRODUCT_CATEGORIES)
    for col in ["channel", "product_category"]:
        assert not isinstance(transactions[col].dtype, pd.CategoricalDtype), col
    assert not transactions.isna().any().any()


def test_customer_tables_are_deterministic_per_seed() -> None:
    a, b, c = MarketingSimulator(3), MarketingSimulator(3), MarketingSimulator(4)
    pd.testing.assert_frame_equal(a.customers(1_000), b.customers(1_000))
    pd.testing.assert_frame_equal(a.transactions(1_000), b.transactions(1_000))
    assert not a.customers(1_000)["email"].equals(c.customers(1_000)["email"])
    assert not np.allclose(a.customers(1_000)["purchase_rate"], c.customers(1_000)["purchase_rate"])
    assert len(a.transactions(1_000)) != len(c.transactions(1_000))


def test_customers_and_transactions_agree(
    customers: pd.DataFrame, transactions: pd.DataFrame, purchases: pd.DataFrame
) -> None:
    # Every customer bought at sign-up, and nobody else bought.
    assert set(transactions["customer_id"]) == set(customers["customer_id"])
    signup = customers["signup_date"].to_numpy()
    first, last = purchases["min"].to_numpy(), purchases["max"].to_numpy()
    assert (signup <= first).all()
    assert (first < signup + np.timedelta64(1, "D")).all()  # the first purchase is that day
    # A dropped-out customer's dropout_at is their last purchase: nothing comes after it.
    dropout = customers["dropout_at"].to_numpy()
    dropped = ~np.isnat(dropout)
    assert dropped.any()
    assert (dropout[dropped] == last[dropped]).all()
    joined = transactions.merge(customers[["customer_id", "dropout_at"]], on="customer_id")
    assert not (joined["timestamp"] > joined["dropout_at"]).any()


def test_timestamps_within_window(customers: pd.DataFrame, transactions: pd.DataFrame) -> None:
    for column in [transactions["timestamp"], customers["signup_date"], customers["dropout_at"]]:
        assert column.min() >= WINDOW_START
        assert column.max() < WINDOW_END
    # The tail end of the window is busy: events past the end were cut, not squeezed in.
    assert (transactions["timestamp"] >= WINDOW_END - pd.Timedelta(days=7)).sum() > 100
    short = MarketingSimulator(1).transactions(500, start="2024-02-20", days=20)["timestamp"]
    assert short.min() >= pd.Timestamp("2024-02-20")
    assert short.max() < pd.Timestamp("2024-03-11")


def test_amounts_positive_and_follow_the_customer(
    customers: pd.DataFrame, transactions: pd.DataFrame, purchases: pd.DataFrame
) -> None:
    amount = transactions["amount"]
    assert (amount > 0).all()
    assert (amount.round(2) == amount).all()  # money: whole cents
    per_customer = amount.groupby(transactions["customer_id"]).mean()
    frequent = (purchases["size"] >= 5).to_numpy()
    truth = customers["mean_amount"].to_numpy()[frequent]
    assert np.corrcoef(np.log(per_customer.to_numpy()[frequent]), np.log(truth))[0, 1] > 0.9
    by_segment = customers.groupby("segment")["mean_amount"].mean()
    assert by_segment["consumer"] < by_segment["small_business"] < by_segment["enterprise"]


def test_buying_mix_is_realistic(customers: pd.DataFrame, purchases: pd.DataFrame) -> None:
    count = purchases["size"]
    assert 2 <= count.median() <= 6
    assert count.quantile(0.99) > 10 * count.median()  # a long tail of heavy buyers
    assert 0.15 < (count == 1).mean() < 0.5  # and many one-time buyers
    assert 0.30 <= customers["dropout_at"].notna().mean() <= 0.50
    # Customers of three years' standing buy more, and more of them have left.
    early = (customers["signup_date"] < WINDOW_START + pd.Timedelta(days=180)).to_numpy()
    assert 3 <= count[early].median() <= 10
    assert customers["dropout_at"][early].notna().mean() > 0.45


def test_latent_truth_drives_the_purchases(
    customers: pd.DataFrame, purchases: pd.DataFrame
) -> None:
    rate = customers.groupby("segment")["purchase_rate"].mean()
    assert rate["consumer"] < rate["small_business"] < rate["enterprise"]
    # Alive customers buy in proportion to their rate and tenure (Spearman on ranks).
    alive = customers["dropout_at"].isna().to_numpy()
    tenure = (WINDOW_END - customers["signup_date"]).dt.days.to_numpy() / 365.25
    expected = customers["purchase_rate"].to_numpy() * tenure
    ranks = pd.DataFrame({"expected": expected[alive], "seen": purchases["size"].to_numpy()[alive]})
    assert ranks.corr(method="spearman").iloc[0, 1] > 0.7
    # Quitters have high dropout probabilities.
    p = customers["dropout_prob"]
    assert p[~alive].mean() > 1.5 * p[alive].mean()


def test_seasonality_and_weekly_pattern(
    customers: pd.DataFrame, transactions: pd.DataFrame
) -> None:
    # An established base: signed up before 2024 and still buying after it. Their
    # rates are constant through 2024, so monthly volume shows the season alone.
    established = customers[
        (customers["signup_date"] < "2024-01-01") & ~(customers["dropout_at"] < "2025-01-01")
    ]["customer_id"]
    in_2024 = transactions[
        transactions["customer_id"].isin(established) & (transactions["timestamp"].dt.year == 2024)
    ]
    monthly = in_2024.groupby(in_2024["timestamp"].dt.month).size()
    assert len(in_2024) > 10_000
    assert monthly.loc[10:12].mean() > 1.15 * monthly.mean()  # the Q4 peak
    assert monthly.idxmax() in (11, 12)
    assert monthly.loc[[11, 12]].min() > monthly.loc[[5, 6, 7]].max()
    # Businesses buy on weekdays; consumers as much at weekends.
    segment = transactions["customer_id"].map(customers.set_index("customer_id")["segment"])
    weekend = (transactions["timestamp"].dt.day_of_week >= 5).groupby(segment).mean()
    assert weekend["enterprise"] < 0.1 < 2 / 7 < weekend["consumer"]


def test_channel_and_category_tastes_are_per_customer(
    transactions: pd.DataFrame, purchases: pd.DataFrame
) -> None:
    regulars = purchases.index[purchases["size"] >= 10]
    subset = transactions[transactions["customer_id"].isin(regulars)]
    for col in ["channel", "product_category"]:
        counts = subset.groupby(["customer_id", col]).size()
        own_top = counts.groupby(level=0).max() / counts.groupby(level=0).sum()
        population_top = subset[col].value_counts(normalize=True).iloc[0]
        assert own_top.mean() > population_top + 0.1, col


@pytest.mark.parametrize("method", ["customers", "transactions"])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, "n_customers"),
        ({"n_customers": 2.5}, "n_customers"),
        ({"n_customers": True}, "n_customers"),
        ({"n_customers": 10, "start": "someday"}, "start"),
        ({"n_customers": 10, "days": 0}, "days"),
    ],
)
def test_customer_tables_reject_bad_arguments(method: str, kwargs: dict, match: str) -> None:
    with pytest.raises(UserError, match=match) as info:
        getattr(MarketingSimulator(0), method)(**kwargs)
    assert "\n" not in str(info.value)


def test_customer_datasets_load_the_simulated_tables() -> None:
    crm = SimulatedCustomers(name="customers", columns=CUSTOMERS_COLUMNS, n_customers=500, seed=2)
    tx = SimulatedTransactions(
        name="transactions", columns=TRANSACTIONS_COLUMNS, n_customers=500, seed=2
    )
    assert isinstance(crm, Dataset) and isinstance(tx, Dataset)
    simulator = MarketingSimulator(2)
    frame = crm.load()
    # A CRM does not know the latent truth.
    assert list(frame.columns) == list(CRM_COLUMNS)
    pd.testing.assert_frame_equal(frame, simulator.customers(500)[list(CRM_COLUMNS)])
    crm.columns.check(frame, "the simulated customers")
    assert "email" not in crm.columns.features(frame).columns
    purchases = tx.load()
    pd.testing.assert_frame_equal(purchases, simulator.transactions(500))
    tx.columns.check(purchases, "the simulated transactions")
    assert set(tx.columns.features(purchases).columns) == {"amount", "channel", "product_category"}


@pytest.mark.parametrize("cls", [SimulatedCustomers, SimulatedTransactions])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, r"dataset\.n_customers must be a positive integer"),
        ({"n_customers": "many"}, r"dataset\.n_customers"),
        ({"seed": -1}, r"dataset\.seed"),
        ({"days": 0}, r"dataset\.days"),
        ({"start": "yesterday-ish"}, r"dataset\.start"),
    ],
)
def test_customer_datasets_reject_bad_arguments(cls: type, kwargs: dict, match: str) -> None:
    with pytest.raises(UserError, match=match) as info:
        cls(name="t", columns={}, **kwargs)
    assert "\n" not in str(info.value)


def test_transactions_dataset_builds_from_hydra_yaml() -> None:
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(
        "_target_: growthlab.data.simulator.SimulatedTransactions\n"
        "name: transactions\n"
        "n_customers: 200\n"
        "seed: 5\n"
        "start: 2024-03-01\n"
        "days: 365\n"
        "columns: {id: transaction_id, time: timestamp, drop: [customer_id]}\n"
    )
    ds = instantiate(cfg)
    assert isinstance(ds, SimulatedTransactions)
    frame = ds.load()
    assert frame["customer_id"].nunique() == 200
    assert frame["timestamp"].min() >= pd.Timestamp("2024-03-01")
    assert frame["timestamp"].max() < pd.Timestamp("2025-03-01")


def test_cli_writes_a_readable_csv(tmp_path: Path) -> None:
    out = tmp_path / "data" / "transactions.csv"
    args = ["transactions", "--customers", "300", "--seed", "1", "--out", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "growthlab.data.simulator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and "transactions" in result.stdout
    written = pd.read_csv(out, parse_dates=["timestamp"])
    expected = MarketingSimulator(1).transactions(300)
    assert list(written.columns) == TRANSACTION_COLUMNS
    assert len(written) == len(expected)
    assert (written["timestamp"].to_numpy() == expected["timestamp"].to_numpy()).all()
    assert np.allclose(written["amount"], expected["amount"])


def test_cli_writes_parquet_and_leads(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    main(["customers", "--customers", "200", "--crm-only", "--out", str(tmp_path / "c.parquet")])
    assert list(pd.read_parquet(tmp_path / "c.parquet").columns) == list(CRM_COLUMNS)
    main(["leads", "--rows", "150", "--seed", "2", "--out", str(tmp_path / "leads.csv")])
    assert len(pd.read_csv(tmp_path / "leads.csv")) == 150
    assert "wrote 150 leads" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["leads", "--out", "leads.txt"], ".csv or .parquet"),
        (["customers", "--customers", "0", "--out", "c.csv"], "n_customers"),
        (["transactions", "--start", "soon", "--out", "t.csv"], "start"),
    ],
)
def test_cli_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    argv = [str(tmp_path / a) if a.endswith((".csv", ".txt")) else a for a in argv]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
