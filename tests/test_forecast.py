"""Forecast end to end from experiments: run, register, reload, promote, score, tune."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from growthlab import handoff
from growthlab.errors import UserError
from growthlab.runner import RunResult, run
from growthlab.tasks import LABEL
from tests.conftest import (
    SHARED_DATA,
    compose_config,
    growthlab,
    one_line_error,
    run_statuses,
    score_file,
    store_overrides,
)

SMALL = [
    "experiments=forecast_global_xgboost",
    "dataset.n_regions=2",
    "dataset.days=300",
    "task.horizon=14",
    "model.n_estimators=40",
    "tuner=none",  # the experiment tunes within a time budget; these tests fit once
]
MODEL = "forecast-simulated_revenue"


@pytest.fixture(scope="module")
def daily(module_store: Path) -> RunResult:
    return run(compose_config([*SMALL, *store_overrides(module_store)]))


def test_daily_run_logs_backtest_metrics_per_step_and_plots(daily: RunResult) -> None:
    logged = MlflowClient().get_run(daily.run_id)
    params, metrics = logged.data.params, logged.data.metrics
    assert params["data.frequency"] == "D" and params["data.season_length"] == "7"
    assert params["data.ignored_columns"] == "expected_revenue"
    assert len(params["data.test_origins"].split(",")) == 3
    assert params["data.valid_origins"].split(",")[-1] < params["data.test_origins"].split(",")[0]
    for name in ("mae", "rmse", "wape", "smape", "mase", "bias", "mase_h1", "mase_h14"):
        assert f"test_{name}" in metrics and f"valid_{name}" in metrics
    assert metrics["test_mase"] < metrics["test_baseline_mase"]
    client = MlflowClient()
    plots = {a.path for a in client.list_artifacts(daily.run_id, "plots")}
    assert {
        "plots/test_actual_vs_forecast.png",
        "plots/test_error_by_horizon.png",
        "plots/test_residuals.png",
    } <= plots
    tables = {a.path for a in client.list_artifacts(daily.run_id, "tables")}
    assert "tables/test_forecasts.csv" in tables


def test_registered_pyfunc_forecasts_the_holdout_like_the_model(daily: RunResult) -> None:
    version = MlflowClient().get_model_version_by_alias(MODEL, "challenger")
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@challenger")
    task = handoff.task_of(daily.run_id)
    holdout = task.holdout(daily.data)
    X, y = task.outcomes(holdout, daily.data.schema)
    out = model.predict(X)
    assert list(out.columns) == ["channel", "region", "date", "forecast"]
    assert len(out) == len(y) == holdout[LABEL].notna().sum()
    direct = task.predict_frame(daily.model, X, daily.data.schema)["forecast"].to_numpy()
    np.testing.assert_allclose(out["forecast"].to_numpy(), direct, rtol=1e-6)
    future = X["revenue"].isna().to_numpy()
    pd.testing.assert_frame_equal(
        out[["channel", "region"]], X.loc[future, ["channel", "region"]].reset_index(drop=True)
    )
    assert version.tags["test_mase"]


def test_promote_passes_the_gate_against_the_seasonal_naive(
    daily: RunResult, module_store: Path
) -> None:
    cfg = compose_config(
        [*SMALL, "command=promote", f"registry.model_name={MODEL}", *store_overrides(module_store)]
    )
    handoff.promote(cfg)
    assert MlflowClient().get_registered_model(MODEL).aliases["champion"] == 1


def test_batch_scoring_forecasts_the_future_rows_of_a_file(
    daily: RunResult, module_store: Path, tmp_path: Path
) -> None:
    task = handoff.task_of(daily.run_id)
    X, y = task.outcomes(task.holdout(daily.data), daily.data.schema)
    source, target = tmp_path / "panel.csv", tmp_path / "forecast.csv"
    X.to_csv(source, index=False)
    score_file(
        module_store,
        source,
        target,
        *SMALL,
        f"registry.model_name={MODEL}",
        "registry.alias=challenger",
    )
    scored = pd.read_csv(target)
    assert len(scored) == len(y)
    assert list(scored.columns) == ["channel", "region", "date", "forecast", "model_version"]
    expected = task.predict_frame(daily.model, X, daily.data.schema)["forecast"].to_numpy()
    np.testing.assert_allclose(scored["forecast"], expected, rtol=1e-6)


def test_a_series_without_future_rows_needs_its_planned_drivers(daily: RunResult) -> None:
    task = handoff.task_of(daily.run_id)
    X, _ = task.outcomes(task.holdout(daily.data), daily.data.schema)
    history = X[X["revenue"].notna()]
    with pytest.raises(UserError, match="no rows to forecast"):
        task.predict_frame(daily.model, history, daily.data.schema)


def test_scoring_future_rows_without_known_drivers_is_one_line(
    daily: RunResult, module_store: Path, tmp_path: Path
) -> None:
    task = handoff.task_of(daily.run_id)
    X, _ = task.outcomes(task.holdout(daily.data), daily.data.schema)
    X.loc[X["revenue"].isna(), "promotion"] = np.nan
    source = tmp_path / "no_drivers.csv"
    X.to_csv(source, index=False)
    done = growthlab(
        "command=score",
        f"registry.model_name={MODEL}",
        "registry.alias=challenger",
        f"registry.scoring.input={source}",
        f"registry.scoring.output={tmp_path / 'out.csv'}",
        store=module_store,
    )
    assert done.returncode == 2
    assert "known driver 'promotion'" in one_line_error(done)
    assert "RUNNING" not in run_statuses(module_store)


def test_tuned_run_validates_before_the_test_windows(tmp_path: Path) -> None:
    result = run(
        compose_config(
            [
                *SMALL,
                "tuner=tpe",
                "tuner.n_trials=3",
                "tuner.progress=false",
                "task.backtest.valid_windows=1",
                "task.backtest.windows=1",
                *store_overrides(tmp_path),
            ]
        )  # fmt: skip
    )
    assert result.metrics["trials_complete"] + result.metrics.get("trials_pruned", 0) == 3
    assert "best_valid_mase" in result.metrics and "test_mase" in result.metrics
    assert not any(k.startswith("valid_") for k in result.metrics)


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED_DATA / "texas_housing_sales_monthly.csv").exists(), reason="no ../shared/data"
)
def test_texas_monthly_panel_runs_and_beats_the_seasonal_naive(tmp_path: Path) -> None:
    overrides = ["experiments=forecast_texas_housing", "model.n_estimators=100", "tuner=none"]
    result = run(compose_config([*overrides, *store_overrides(tmp_path)]))
    assert result.data.info["frequency"] == "MS" and result.data.info["n_series"] == 46
    assert result.metrics["test_mase"] < result.metrics["test_baseline_mase"]
    name = "forecast-texas_housing"
    assert promoted(overrides, name, tmp_path) == 1


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED_DATA / "borden_cheese_retailer_week.csv").exists(), reason="no ../shared/data"
)
def test_cheese_weekly_panel_with_drivers_runs(tmp_path: Path) -> None:
    overrides = ["experiments=forecast_cheese_retailers", "model.n_estimators=100", "tuner=none"]
    result = run(compose_config([*overrides, *store_overrides(tmp_path)]))
    assert result.data.info["frequency"] == "W" and result.data.info["known"] == "DISP,PRICE"
    assert result.metrics["test_mase"] < result.metrics["test_baseline_mase"]
    model = mlflow.pyfunc.load_model(result.model_uri)
    task = handoff.task_of(result.run_id)
    X, y = task.outcomes(task.holdout(result.data), result.data.schema)
    assert len(model.predict(X)) == len(y) == 88 * 4  # every retailer ends on the same week
    name = "forecast-cheese_retailers"
    assert promoted(overrides, name, tmp_path) == 1


def promoted(overrides: list[str], name: str, module_store: Path) -> int:
    """Promote the challenger of `name` through the gate; the version now @champion."""
    handoff.promote(
        compose_config(
            [
                *overrides,
                "command=promote",
                f"registry.model_name={name}",
                *store_overrides(module_store),
            ]
        )
    )
    return int(MlflowClient().get_registered_model(name).aliases["champion"])
