"""A real run into a throwaway MLflow store: what it logs; its pyfunc scores like the model."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from growthlab.runner import RunResult, run
from tests.conftest import compose_config, store_overrides

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.example")
SMALL = ["dataset.n_rows=6000", "model.n_estimators=40", "task.importance_rows=1000"]


@pytest.fixture(scope="module")
def result(module_store: Path) -> RunResult:
    return run(
        compose_config(["experiments=lead_scoring_xgboost", *SMALL, *store_overrides(module_store)])
    )


def test_run_is_finished_with_metrics_named_by_split(result: RunResult) -> None:
    logged = MlflowClient().get_run(result.run_id)
    assert logged.info.status == "FINISHED"
    metrics = logged.data.metrics
    for split in ("valid", "test"):
        for name in (
            "roc_auc",
            "average_precision",
            "log_loss",
            "brier",
            "lift_at_10pct",
            "capture_at_20pct",
            "precision_at_capacity",
            "oracle_roc_auc",
        ):
            assert f"{split}_{name}" in metrics
    assert 0.5 < metrics["test_roc_auc"] <= metrics["test_oracle_roc_auc"] + 0.05


def test_run_logs_config_provenance_and_split(result: RunResult) -> None:
    logged = MlflowClient().get_run(result.run_id)
    assert logged.data.params["model.n_estimators"] == "40"
    assert logged.data.params["data.split"] == "out_of_time"
    assert logged.data.params["data.train_end"] < logged.data.params["data.test_start"]
    assert int(logged.data.params["data.test_rows"]) > 0
    for tag in ("data_digest", "config_hash", "git_commit", "version.mlflow", "growthlab.task"):
        assert logged.data.tags[tag]


def test_run_logs_plots_tables_and_config(result: RunResult, module_store: Path) -> None:
    client = MlflowClient()
    names = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"config.yaml", "plots", "tables"} <= names
    plots = {a.path for a in client.list_artifacts(result.run_id, "plots")}
    assert {
        f"plots/test_{p}.png"
        for p in ("roc", "precision_recall", "cumulative_gains", "lift_by_decile", "calibration")
    } <= plots
    assert "plots/test_feature_importance.png" in plots
    deciles = Path(
        mlflow.artifacts.download_artifacts(
            run_id=result.run_id,
            artifact_path="tables/test_deciles.csv",
            dst_path=str(module_store / "dl"),
        )
    )
    assert deciles.read_text().splitlines()[0].startswith("decile,count,conversions,rate,lift")


def test_pyfunc_predicts_like_the_in_memory_model(result: RunResult) -> None:
    test = result.data.parts["test"]
    loaded = mlflow.pyfunc.load_model(result.model_uri)
    scored = loaded.predict(test.X)
    expected = result.model.predict_proba(test.X)[:, 1]
    np.testing.assert_allclose(scored["score"].to_numpy(), expected, rtol=1e-6)


def test_pyfunc_accepts_blanks_and_unseen_categories(result: RunResult) -> None:
    rows = result.data.parts["test"].X.head(3).copy()
    rows.loc[rows.index[0], "pages_viewed"] = np.nan
    rows.loc[rows.index[1], "channel"] = "tiktok"
    scores = mlflow.pyfunc.load_model(result.model_uri).predict(rows)["score"]
    assert scores.between(0, 1).all()


def test_no_email_address_anywhere_in_the_store(result: RunResult, module_store: Path) -> None:
    files = [p for p in module_store.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)
    leaked = [str(p) for p in files if EMAIL.search(p.read_bytes())]
    assert leaked == []
