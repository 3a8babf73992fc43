"""Column roles, and tables read from CSV / Parquet files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from growthlab.build import build
from growthlab.data.dataset import Columns
from growthlab.data.files import FileDataset
from growthlab.errors import UserError

from .conftest import SHARED_DATA, compose_config

ALL_ROLES = {
    "id",
    "target",
    "positive_label",
    "time",
    "oracle",
    "pii",
    "drop",
    "categorical",
    "numeric",
}


def leads_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [1, 2, 3],
            "email": ["a@x.example", "b@x.example", "c@x.example"],
            "created_at": ["2024-01-03", "2024-01-01", "2024-02-29"],
            "channel": ["seo", "email", "seo"],
            "pages": [3, 1, 7],
            "internal_note": ["x", "y", "z"],
            "p_true": [0.1, 0.5, 0.2],
            "converted": [0, 1, 0],
        }
    )


LEADS_ROLES = {
    "id": "lead_id",
    "target": "converted",
    "time": "created_at",
    "oracle": "p_true",
    "pii": ["email"],
    "drop": ["internal_note"],
}


# --- Columns --------------------------------------------------------------------------------


def test_unknown_role_is_user_error_listing_valid_roles() -> None:
    with pytest.raises(UserError, match="'targte'") as info:
        Columns.from_mapping({"targte": "converted"})
    assert all(role in str(info.value) for role in ALL_ROLES)


def test_from_mapping_fills_defaults_and_turns_null_lists_into_empty_lists() -> None:
    columns = Columns.from_mapping({"target": "y", "pii": None, "drop": ("a", "b")})
    assert columns.target == "y"
    assert columns.id is None
    assert columns.pii == []
    assert columns.drop == ["a", "b"]


def test_from_mapping_passes_columns_through() -> None:
    columns = Columns(target="y")
    assert Columns.from_mapping(columns) is columns


def test_features_exclude_every_non_feature_role() -> None:
    features = Columns.from_mapping(LEADS_ROLES).features(leads_frame())
    assert list(features.columns) == ["channel", "pages"]


def test_features_keep_declared_categorical_and_numeric_columns() -> None:
    roles = {**LEADS_ROLES, "categorical": ["pages"], "numeric": ["channel"]}
    assert list(Columns.from_mapping(roles).features(leads_frame()).columns) == [
        "channel",
        "pages",
    ]


def test_check_passes_when_every_declared_column_is_present() -> None:
    Columns.from_mapping(LEADS_ROLES).check(leads_frame(), "the data")


@pytest.mark.parametrize(
    "roles",
    [
        {"target": "sold"},
        {"target": "converted", "pii": ["phone"]},
        {"target": "converted", "categorical": ["phone"]},
    ],
)
def test_check_names_the_missing_column(roles: dict[str, object]) -> None:
    missing = "sold" if roles["target"] == "sold" else "phone"
    with pytest.raises(UserError, match=f"column '{missing}' declared in dataset.columns"):
        Columns.from_mapping(roles).check(leads_frame(), "the data")


# --- FileDataset ----------------------------------------------------------------------------


def write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_file_dataset_reads_csv_and_parquet(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"leads.{fmt}"
    frame = leads_frame()
    write(frame, path)
    loaded = FileDataset("leads", LEADS_ROLES, str(path)).load()
    assert list(loaded.columns) == list(frame.columns)
    assert loaded["pages"].tolist() == [3, 1, 7]
    assert loaded["channel"].tolist() == ["seo", "email", "seo"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_file_dataset_parses_the_time_column_to_datetimes(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"leads.{fmt}"
    write(leads_frame(), path)
    times = FileDataset("leads", LEADS_ROLES, str(path)).load()["created_at"]
    assert pd.api.types.is_datetime64_any_dtype(times)
    assert times.tolist() == [pd.Timestamp(d) for d in ["2024-01-03", "2024-01-01", "2024-02-29"]]


def test_file_dataset_leaves_other_columns_unparsed_without_a_time_role(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    leads_frame().to_csv(path, index=False)
    roles = {"target": "converted", "id": "lead_id", "pii": ["email"]}
    loaded = FileDataset("leads", roles, str(path)).load()
    assert not pd.api.types.is_datetime64_any_dtype(loaded["created_at"])


def test_file_dataset_passes_read_options(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    leads_frame().to_csv(path, index=False, sep=";")
    loaded = FileDataset("leads", LEADS_ROLES, str(path), read_options={"sep": ";"}).load()
    assert len(loaded.columns) == len(leads_frame().columns)


def test_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "leads.txt"
    leads_frame().to_csv(path, index=False)
    assert len(FileDataset("leads", LEADS_ROLES, str(path), format="csv").load()) == 3


def test_missing_file_is_user_error(tmp_path: Path) -> None:
    dataset = FileDataset("leads", LEADS_ROLES, str(tmp_path / "nope.csv"))
    with pytest.raises(UserError, match="does not exist"):
        dataset.load()


@pytest.mark.parametrize(("name", "fmt"), [("leads.xlsx", None), ("leads.csv", "json")])
def test_unsupported_format_is_user_error(tmp_path: Path, name: str, fmt: str | None) -> None:
    with pytest.raises(UserError, match="is not supported"):
        FileDataset("leads", LEADS_ROLES, str(tmp_path / name), format=fmt)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.csv", bytes(range(256)) * 4),
        ("empty.csv", b""),
        ("garbage.parquet", b"lead_id,converted\n1,0\n"),
        ("truncated.parquet", b"PAR1garbagePAR1"),
    ],
)
def test_garbage_file_is_user_error(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match="cannot read"):
        FileDataset("leads", {"target": "converted"}, str(path)).load()


def test_time_column_that_is_not_dates_is_user_error(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    leads_frame().assign(created_at=["2024-01-03", "not a date", "2024-02-29"]).to_csv(
        path, index=False
    )
    with pytest.raises(UserError, match="'created_at'"):
        FileDataset("leads", LEADS_ROLES, str(path)).load()


def test_time_column_error_names_the_row_never_the_value(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    leads_frame().assign(created_at=["2024-01-03", "not a date", "2024-02-29"]).to_csv(
        path, index=False
    )
    with pytest.raises(UserError, match="row 2 does not") as err:
        FileDataset("leads", LEADS_ROLES, str(path)).load()
    assert "not a date" not in str(err.value)  # a cell may hold personal data


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} is not checked out")
def test_telecom_churn_config_reads_the_shared_table() -> None:
    cfg = compose_config(["dataset=telecom_churn"])
    dataset = build(cfg.dataset, "dataset")
    frame = dataset.load()
    dataset.columns.check(frame, "the data")
    assert len(frame) == 5000
    assert set(frame["churn"]) == {"yes", "no"}
    assert dataset.columns.positive_label == "yes"
    assert "churn" not in dataset.columns.features(frame).columns
