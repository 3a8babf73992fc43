"""Forecasts from the latest history: the refit on all history, the recorded gate, the blend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.base import clone

from growthlab import handoff, registry
from growthlab.data.panel import FUTURE
from growthlab.gate import Gate, passed
from growthlab.models.forecasters import GlobalBoosted, SeasonalNaive
from growthlab.runner import RunResult, run
from growthlab.tasks.forecast import Forecast
from tests.conftest import compose_config, store_overrides

SMALL = [
    "experiments=forecast_global_xgboost",
    "dataset.n_regions=2",
    "dataset.days=240",
    "task.horizon=14",
    "model.n_estimators=30",
    "model.n_jobs=1",
    "tuner=none",
]
MODEL = "forecast-simulated_revenue"


@pytest.fixture(scope="module")
def refitted(module_store: Path) -> RunResult:
    return run(compose_config([*SMALL, *store_overrides(module_store)]))


def test_the_registered_forecaster_learned_from_all_history(refitted: RunResult) -> None:
    task, data = handoff.task_of(refitted.run_id), refitted.data
    assert task.final_refit == "all" and data.info["final_refit"] == "all"
    X, _ = task.window_input(data, data.origins["test"][-1])
    on_all = clone(refitted.model).fit(data.frame)
    np.testing.assert_allclose(refitted.model.predict(X), on_all.predict(X), rtol=1e-6)
    history, _ = task.window_input(data, data.origins["test"][0])
    backtest = clone(refitted.model).fit(history[~history[FUTURE]])
    assert not np.allclose(refitted.model.predict(X), backtest.predict(X))


@pytest.mark.slow  # a second run
def test_final_refit_leaves_the_backtest_figures_unchanged(
    refitted: RunResult, tmp_path: Path
) -> None:
    kept = run(compose_config([*SMALL, "task.final_refit=backtest", *store_overrides(tmp_path)]))
    for name in ("test_mase", "test_baseline_mase", "test_mae"):
        assert kept.metrics[name] == pytest.approx(refitted.metrics[name], rel=1e-9), name


def test_the_gate_judges_the_recorded_backtest(refitted: RunResult, module_store: Path) -> None:
    promote = [*SMALL, "command=promote", f"registry.model_name={MODEL}"]
    handoff.promote(compose_config([*promote, *store_overrides(module_store)]))
    assert MlflowClient().get_registered_model(MODEL).aliases["champion"] == 1
    decision = registry.decisions(MODEL)[-1]
    assert decision["metrics"]["baseline.mase"] == pytest.approx(refitted.metrics["test_mase"])


def test_recorded_checks_compare_baseline_and_champion_as_recorded() -> None:
    task, gate = Forecast(), Gate()
    recorded = {"mase": 0.8, "baseline_mase": 1.0}
    checks = gate.judge_recorded(task, recorded, None)
    assert [(c.check, c.passed) for c in checks] == [("baseline", True)]
    assert checks[0].difference == pytest.approx(0.2) and "recorded" in checks[0].note
    checks = gate.judge_recorded(task, recorded, {"mase": 0.7})
    assert [(c.check, c.passed) for c in checks] == [("baseline", True), ("champion", False)]
    assert not passed(checks)
    fallback = gate.judge_recorded(task, recorded, {"mae": 3.0})
    assert [c.check for c in fallback] == ["champion", "baseline"] and passed(fallback)


def test_the_blend_mixes_in_the_seasonal_naive(refitted: RunResult) -> None:
    task, data = handoff.task_of(refitted.run_id), refitted.data
    X, _ = task.window_input(data, data.origins["test"][0])
    history = X[~X[FUTURE]]
    fit = {"n_estimators": 20, "n_jobs": 1, "horizon": 14, "season_length": 7}
    boosted = GlobalBoosted(**fit).fit(history).predict(X)
    naive = SeasonalNaive(7).fit(history).predict(X)
    half = GlobalBoosted(**fit, baseline_weight=0.5).fit(history).predict(X)
    np.testing.assert_allclose(half, 0.5 * boosted + 0.5 * naive, rtol=1e-5)
    whole = GlobalBoosted(**fit, baseline_weight=1.0).fit(history).predict(X)
    np.testing.assert_allclose(whole, naive, rtol=1e-5)
