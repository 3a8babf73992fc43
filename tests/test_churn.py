"""Churn end to end on both input shapes: a transaction log and a customer table."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from growthlab import handoff
from growthlab.data.simulator import MarketingSimulator
from growthlab.data.snapshots import build_snapshots
from growthlab.errors import UserError
from growthlab.runner import RunResult, run
from tests.conftest import compose_config, score_file, store_overrides

FAST = ["model.n_estimators=40", "task.importance_rows=500"]


@pytest.fixture(scope="module")
def log_run(module_store: Path) -> RunResult:
    overrides = ["experiments=churn_xgboost", "dataset.n_customers=4000", *FAST]
    return run(compose_config([*overrides, *store_overrides(module_store)]))


def test_log_shape_runs_out_of_time_by_cutoff(log_run: RunResult) -> None:
    logged = MlflowClient().get_run(log_run.run_id)
    params, metrics = logged.data.params, logged.data.metrics
    assert params["data.split"] == "out_of_time_cutoffs"
    cutoffs = params["data.cutoffs"].split(",")
    assert len(cutoffs) == 6 and cutoffs == sorted(cutoffs)
    assert params["data.test_start"].startswith(cutoffs[-1])
    assert params["data.valid_start"].startswith(cutoffs[-2])
    assert params["data.train_end"] < params["data.valid_start"]
    for name in ("roc_auc", "capture_at_10pct", "best_contact_fraction", "best_contact_value"):
        assert f"test_{name}" in metrics
    assert metrics["test_roc_auc"] > 0.65


def test_log_shape_logs_the_value_curve(log_run: RunResult) -> None:
    client = MlflowClient()
    plots = {a.path for a in client.list_artifacts(log_run.run_id, "plots")}
    tables = {a.path for a in client.list_artifacts(log_run.run_id, "tables")}
    assert "plots/test_retention_value.png" in plots
    assert "tables/test_value_curve.csv" in tables


def test_model_takes_the_snapshot_feature_table(log_run: RunResult) -> None:
    test = log_run.data.parts["test"]
    assert "recency_days" in test.X and "customer_id" not in test.X and "churned" not in test.X
    scores = mlflow.pyfunc.load_model(log_run.model_uri).predict(test.X)["score"]
    np.testing.assert_allclose(scores, log_run.model.predict_proba(test.X)[:, 1], rtol=1e-6)


def test_gate_baseline_is_the_recency_rule(log_run: RunResult, module_store: Path) -> None:
    task = handoff.task_of(log_run.run_id)
    test = log_run.data.parts["test"]
    np.testing.assert_array_equal(task.baseline_scores(test.y, test.X), test.X["recency_days"])
    cfg = compose_config(
        ["experiments=churn_xgboost", "command=promote", *store_overrides(module_store)]
    )
    handoff.promote(cfg)
    name = cfg.registry.model_name
    assert MlflowClient().get_registered_model(name).aliases["champion"] == 1


def test_score_a_log_at_a_cutoff(log_run: RunResult, module_store: Path, tmp_path: Path) -> None:
    log = MarketingSimulator(11).transactions(1500, start="2023-01-01", days=900)
    source, target = tmp_path / "log.csv", tmp_path / "scores.csv"
    log.to_csv(source, index=False)
    score_file(
        module_store,
        source,
        target,
        "experiments=churn_xgboost",
        "registry.alias=challenger",
        "registry.scoring.cutoff=2025-03-01",
    )
    scores = pd.read_csv(target)
    assert list(scores.columns) == ["customer_id", "cutoff", "score", "decile", "model_version"]
    active = log[(log.timestamp < "2025-03-01") & (log.timestamp >= "2024-09-02")].customer_id
    assert set(scores.customer_id) == set(active)


def test_horizon_past_the_data_is_refused(module_store: Path) -> None:
    cfg = compose_config(
        [
            "experiments=churn_xgboost",
            "dataset.n_customers=500",
            "dataset.days=200",
            "task.horizon_days=400",
            *store_overrides(module_store),
        ]
    )
    with pytest.raises(UserError, match="horizon_days"):
        run(cfg)


def test_table_shape_with_yes_no_label(module_store: Path, tmp_path: Path) -> None:
    log = MarketingSimulator(3).transactions(5000)
    table = build_snapshots(
        log,
        [pd.Timestamp("2025-06-01")],
        id_col="customer_id",
        time_col="timestamp",
        amount_col="amount",
        channel_col="channel",
    )
    table["churn"] = np.where(table.pop("churned") == 1, "yes", "no")
    path = tmp_path / "customers.csv"
    table.drop(columns=["cutoff"]).to_csv(path, index=False)
    result = run(
        compose_config(
            [
                "experiments=churn_xgboost_table",
                "dataset=file",
                f"dataset.path={path}",
                "dataset.name=customers",
                "dataset.columns.target=churn",
                "dataset.columns.positive_label=yes",
                "dataset.columns.id=customer_id",
                *FAST,
                *store_overrides(module_store),
            ]
        )
    )
    metrics = MlflowClient().get_run(result.run_id).data.metrics
    assert metrics["test_roc_auc"] > 0.65 and "test_best_contact_value" in metrics
    assert MlflowClient().get_run(result.run_id).data.params["data.split"] == "stratified"
