"""`make score`: a file of leads in, the same rows with the champion's scores out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from growthlab import handoff, registry, scoring
from growthlab.data.simulator import MarketingSimulator
from growthlab.errors import UserError
from growthlab.runner import run
from growthlab.tasks import part_from_frame
from tests.conftest import FAST, compose_config, score_file, store_overrides

NAME = "lead_scoring-simulated_leads"
PASS_THROUGH = ["lead_id", "email", "created_at"]
COUNTS = ["pages_viewed", "email_opens", "email_clicks", "form_fills", "days_since_first_touch"]


@dataclass
class Champion:
    store: Path
    model: mlflow.pyfunc.PyFuncModel  # loaded from models:/NAME@champion
    schema: dict[str, str]
    reference: np.ndarray  # the champion's scores on its holdout


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Champion:
    store = tmp_path_factory.mktemp("scoring")
    run(compose_config([*FAST, *store_overrides(store)]))
    handoff.promote(
        compose_config(["command=promote", "registry.gate.resamples=100", f"store={store}"])
    )
    connect(store)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    version = registry.model_version(NAME, alias="champion")
    holdout = part_from_frame(registry.download_frame(version.run_id, registry.HOLDOUT))
    reference = model.predict(holdout.X)["score"].to_numpy()
    return Champion(store, model, registry.input_schema(model), reference)


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    """3000 new leads as the CRM exports them: no label, extra columns included."""
    return MarketingSimulator(7).leads(3000).drop(columns=["converted", "p_convert"])


@pytest.fixture(scope="module")
def leads_csv(leads: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("leads") / "leads.csv"
    leads.to_csv(path, index=False)
    return path


def connect(store: Path) -> None:
    uri = f"sqlite:///{store}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def model_scores(champion: Champion, frame: pd.DataFrame) -> np.ndarray:
    """What the registered pyfunc says for these rows, typed as its signature asks."""
    features = frame[list(champion.schema)].astype(dict.fromkeys(COUNTS, "float64"))
    return champion.model.predict(features)["score"].to_numpy()


def test_batch_scores_equal_the_registered_model(
    champion: Champion, leads: pd.DataFrame, leads_csv: Path, tmp_path: Path
) -> None:
    assert leads["company_size"].isna().any()  # blanks in string columns are part of the test
    target = tmp_path / "scores.csv"
    score_file(champion.store, leads_csv, target)
    out = pd.read_csv(target)
    assert len(out) == len(leads)
    expected = model_scores(champion, leads)
    np.testing.assert_allclose(out["score"], expected, rtol=1e-6)  # CSV keeps ~7 digits of float32
    cuts = scoring.cut_points(champion.reference)
    np.testing.assert_array_equal(out["decile"], scoring.deciles(expected, cuts))
    assert set(out["decile"]) <= set(range(1, 11))
    assert (out["model_version"] == f"{NAME}/1").all()
    # The best decile really holds the highest scores.
    assert out.loc[out["decile"] == 1, "score"].min() >= out.loc[out["decile"] == 2, "score"].max()


def test_extra_columns_pass_through(
    champion: Champion, leads: pd.DataFrame, leads_csv: Path, tmp_path: Path
) -> None:
    target = tmp_path / "scores.csv"
    score_file(champion.store, leads_csv, target)
    out = pd.read_csv(target, dtype=str)
    source = pd.read_csv(leads_csv, dtype=str)
    assert list(out.columns) == [*PASS_THROUGH, "score", "decile", "model_version"]
    pd.testing.assert_frame_equal(out[PASS_THROUGH], source[PASS_THROUGH])
    assert out["email"].str.endswith(".example").all()


def test_small_chunks_give_the_same_file(
    champion: Champion, leads_csv: Path, tmp_path: Path
) -> None:
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    score_file(champion.store, leads_csv, whole)
    # 5 chunks, the last one short
    score_file(champion.store, leads_csv, chunked, "registry.scoring.chunk_rows=700")
    assert chunked.read_bytes() == whole.read_bytes()


def test_parquet_in_and_out(champion: Champion, leads: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "leads.parquet"
    leads.to_parquet(source, index=False)
    whole, chunked = tmp_path / "whole.parquet", tmp_path / "chunked.parquet"
    score_file(champion.store, source, whole)
    score_file(champion.store, source, chunked, "registry.scoring.chunk_rows=700")
    out = pd.read_parquet(whole)
    pd.testing.assert_frame_equal(pd.read_parquet(chunked), out)
    assert list(out.columns) == [*PASS_THROUGH, "score", "decile", "model_version"]
    np.testing.assert_array_equal(out["score"], model_scores(champion, leads))  # exact
    # Parquet has no second unit: created_at comes back as datetime64[ms], same instants.
    pd.testing.assert_frame_equal(
        out[PASS_THROUGH], leads[PASS_THROUGH].reset_index(drop=True), check_dtype=False
    )


def test_missing_column_is_named_and_no_file_is_left(
    champion: Champion, leads: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "leads.csv"
    leads.drop(columns=["pages_viewed"]).to_csv(source, index=False)
    target = tmp_path / "scores.csv"
    with pytest.raises(UserError, match="'pages_viewed'"):
        score_file(champion.store, source, target)
    assert not target.exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_text_in_a_numeric_column_is_named_and_no_file_is_left(
    champion: Champion, leads: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    """The bad value sits in the 4th chunk: chunks 1-3 were written before it is found."""
    bad = leads.assign(email_opens=leads["email_opens"].astype(object))
    bad.loc[2500, "email_opens"] = "seven"
    source = tmp_path / "leads.csv"
    bad.to_csv(source, index=False)
    target = tmp_path / f"scores{suffix}"
    with pytest.raises(UserError, match=r"'email_opens' must be numeric but row 2501 is not"):
        score_file(champion.store, source, target, "registry.scoring.chunk_rows=700")
    assert not target.exists()


def test_text_in_a_boolean_column_is_named(
    champion: Champion, leads: pd.DataFrame, tmp_path: Path
) -> None:
    bad = leads.assign(webinar_attended=leads["webinar_attended"].astype(object))
    bad.loc[10, "webinar_attended"] = "maybe"
    source = tmp_path / "leads.csv"
    bad.to_csv(source, index=False)
    target = tmp_path / "scores.csv"
    with pytest.raises(UserError, match="'webinar_attended'"):
        score_file(champion.store, source, target)
    assert not target.exists()


EMPTY = {
    "parquet without rows": lambda leads, path: leads.head(0).to_parquet(path, index=False),
    "csv with only a header": lambda leads, path: leads.head(0).to_csv(path, index=False),
    "csv of zero bytes": lambda leads, path: path.write_bytes(b""),
}


@pytest.mark.parametrize("case", EMPTY)
def test_empty_input(champion: Champion, leads: pd.DataFrame, tmp_path: Path, case: str) -> None:
    source = tmp_path / ("leads.parquet" if "parquet" in case else "leads.csv")
    EMPTY[case](leads, source)
    target = tmp_path / "scores.csv"
    with pytest.raises(UserError, match="no rows"):
        score_file(champion.store, source, target)
    assert not target.exists()


def test_shifted_inputs_warn_of_drift(
    champion: Champion,
    leads: pd.DataFrame,
    leads_csv: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="growthlab.scoring"):
        score_file(champion.store, leads_csv, tmp_path / "same.csv")
    assert not [r for r in caplog.records if "drifted" in r.getMessage()]
    # A campaign that sends only very engaged leads: their scores sit in the top deciles.
    shifted = leads.assign(pages_viewed=25, email_opens=12, email_clicks=8, form_fills=4)
    source = tmp_path / "engaged.csv"
    shifted.to_csv(source, index=False)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="growthlab.scoring"):
        score_file(champion.store, source, tmp_path / "engaged_scores.csv")
    drift = [r for r in caplog.records if "drifted" in r.getMessage()]
    assert len(drift) == 1 and drift[0].levelno == logging.WARNING
    assert "PSI" in drift[0].getMessage()
    assert (tmp_path / "engaged_scores.csv").exists()  # a warning, not a refusal


def test_missing_input_and_no_paths(champion: Champion, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        score_file(champion.store, tmp_path / "nope.csv", tmp_path / "scores.csv")
    with pytest.raises(UserError, match="INPUT="):
        handoff.score(compose_config(["command=score", f"store={champion.store}"]))
    assert not (tmp_path / "scores.csv").exists()


def test_pass_through_ids_are_written_as_read(
    champion: Champion, leads: pd.DataFrame, tmp_path: Path
) -> None:
    crm_ids = [f"{i:08d}" for i in range(len(leads))]
    account = pd.array(range(len(leads)), dtype="Int64")
    account[5] = pd.NA
    source = tmp_path / "leads.csv"
    leads.assign(crm_id=crm_ids, account=account).to_csv(source, index=False)
    target = tmp_path / "scores.csv"
    score_file(champion.store, source, target)
    out = pd.read_csv(target, dtype=str, keep_default_na=False)
    written = pd.read_csv(source, dtype=str, keep_default_na=False)
    assert out["crm_id"].tolist() == written["crm_id"].tolist()  # '00000042', not '42'
    assert out["account"].tolist() == written["account"].tolist()  # '7', not '7.0'


def test_sparse_text_column_csv_to_parquet_in_chunks(
    champion: Champion, leads: pd.DataFrame, tmp_path: Path
) -> None:
    notes = np.where(np.arange(len(leads)) >= 2000, "call back", None)
    source = tmp_path / "leads.csv"
    leads.assign(notes=notes).to_csv(source, index=False)
    target = tmp_path / "scores.parquet"
    score_file(champion.store, source, target, "registry.scoring.chunk_rows=700")
    out = pd.read_parquet(target)
    assert (out["notes"].iloc[2000:] == "call back").all()
