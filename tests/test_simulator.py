"""The synthetic company: deterministic, realistic enough, PII-safe, and honest about its oracle."""

from __future__ import annotations

import re

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
    DEVICES,
    LEADS_COLUMNS,
    SENIORITIES,
    MarketingSimulator,
    SimulatedLeads,
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
