"""Undeclared personal data and identifiers stop a run before any feature is made from them;
declared ones, the built-in datasets and dataset.allow_undeclared_identifiers=true pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growthlab.data.dataset import Columns
from growthlab.data.files import FileDataset
from growthlab.data.identifiers import identifier_kind
from growthlab.data.simulator.datasets import LEADS_COLUMNS, SimulatedLeads
from growthlab.errors import UserError

from .conftest import growthlab, one_line_error

N = 200
rng = np.random.default_rng(0)
FIRST = ["Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon"]
LAST = ["Smith", "Okafor", "Müller", "Rossi", "Nguyen", "O'Brien", "Kowalski", "Silva"]
LOOKS_PERSONAL = {
    "email addresses": [f"user{i}@mail{i % 7}.example" for i in range(N)],
    "phone numbers": [f"+1 (555) {i:03d}-{(i * 37) % 10000:04d}" for i in range(N)],
    "personal names": [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(N)],
    "distinct values": [f"ticket-{i}-{chr(97 + i % 26)}" for i in range(N)],
}
LOOKS_FINE = {
    "categories": ["New York", "Paris", "Small Business"] * (N // 3) + ["Paris"] * (N % 3),
    "dates as text": pd.date_range("2024-01-01", periods=N, freq="h").astype(str).tolist(),
    "numbers": list(range(N)),
    "few values": ["a", "b", "c"],
}


@pytest.mark.parametrize("kind", LOOKS_PERSONAL)
def test_personal_or_identifying_text_is_recognised(kind: str) -> None:
    assert kind in (identifier_kind(pd.Series(LOOKS_PERSONAL[kind])) or "")


@pytest.mark.parametrize("kind", LOOKS_FINE)
def test_ordinary_columns_are_not_identifiers(kind: str) -> None:
    assert identifier_kind(pd.Series(LOOKS_FINE[kind])) is None


def _leads(tmp_path: Path, **extra: list[object]) -> Path:
    frame = pd.DataFrame(
        {"lead_id": range(N), "visits": rng.integers(0, 9, N), "won": rng.integers(0, 2, N)}
    )
    path = tmp_path / "leads.csv"
    frame.assign(**extra).to_csv(path, index=False)
    return path


def test_an_undeclared_email_column_stops_the_load_without_showing_a_value(tmp_path: Path) -> None:
    path = _leads(tmp_path, contact=LOOKS_PERSONAL["email addresses"])
    dataset = FileDataset("crm", {"id": "lead_id", "target": "won"}, str(path))
    with pytest.raises(UserError) as err:
        dataset.load()
    message = str(err.value)
    assert "'contact' (email addresses)" in message
    assert "pii, id or drop" in message and "allow_undeclared_identifiers=true" in message
    assert "@" not in message and "\n" not in message


def test_declared_or_allowed_identifiers_load(tmp_path: Path) -> None:
    path = _leads(tmp_path, contact=LOOKS_PERSONAL["email addresses"])
    FileDataset("crm", {"id": "lead_id", "target": "won", "pii": ["contact"]}, str(path)).load()
    FileDataset("crm", {"id": "lead_id", "target": "won", "drop": ["contact"]}, str(path)).load()
    roles = {"id": "lead_id", "target": "won"}
    FileDataset("crm", roles, str(path), allow_undeclared_identifiers=True).load()


@pytest.mark.parametrize("role", ["id", "user"])
def test_an_id_may_not_also_be_pii(role: str) -> None:
    with pytest.raises(UserError, match=f"'email' is both dataset.columns.{role} and in"):
        Columns.from_mapping({role: "email", "pii": ["email"]})


def test_the_simulated_leads_declare_their_personal_columns() -> None:
    SimulatedLeads("simulated_leads", LEADS_COLUMNS, n_rows=2000, seed=1).load()


def test_the_run_stops_in_one_line_naming_the_columns(tmp_path: Path, store: Path) -> None:
    path = _leads(
        tmp_path,
        contact=LOOKS_PERSONAL["email addresses"],
        owner=LOOKS_PERSONAL["personal names"],
    )
    done = growthlab(
        "dataset=file",
        f"dataset.path={path}",
        "dataset.columns.id=lead_id",
        "dataset.columns.target=won",
        "model=logistic_regression",
        store=store,
    )
    line = one_line_error(done)
    assert "'contact' (email addresses), 'owner' (personal names)" in line, line
    assert "dataset.allow_undeclared_identifiers=true" in line
