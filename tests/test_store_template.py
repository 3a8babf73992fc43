"""New SQLite stores copy an empty migrated schema instead of running MLflow's migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mlflow.store.db.utils import _get_latest_schema_revision
from mlflow.tracking import MlflowClient

from growthlab.tracking import Tracker


def revision(db: Path) -> str:
    with sqlite3.connect(db) as con:
        return con.execute("select version_num from alembic_version").fetchone()[0]


def test_a_new_store_is_a_copy_of_the_migrated_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("first", "second"):
        store = tmp_path / name
        tracker = Tracker(f"sqlite:///{store}/mlflow.db", str(store / "artifacts"), "leads")
        experiment = tracker.connect()
        assert revision(store / "mlflow.db") == _get_latest_schema_revision()
        run = MlflowClient().create_run(experiment)
        MlflowClient().log_metric(run.info.run_id, "auc", 0.8)
        MlflowClient().set_terminated(run.info.run_id)
        names = [e.name for e in MlflowClient().search_experiments()]
        assert sorted(names) == ["Default", "leads"]
    (template,) = (tmp_path / "cache" / "growthlab").glob("mlflow-*-schema.db")
    assert revision(template) == _get_latest_schema_revision()
    with sqlite3.connect(template) as con:  # the template holds the schema only, no experiment
        assert con.execute("select count(*) from experiments").fetchone()[0] == 0


def test_without_a_usable_cache_mlflow_creates_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    store = tmp_path / "store"
    Tracker(f"sqlite:///{store}/mlflow.db", str(store / "artifacts"), "leads").connect()
    assert revision(store / "mlflow.db") == _get_latest_schema_revision()
