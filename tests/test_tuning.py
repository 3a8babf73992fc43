"""Tuning with real Optuna studies and real MLflow stores (SQLite under tmp_path, no mocks).

Fast (default run): the search-space parser, the CLI's one-line errors for bad spaces and
tuner settings, a tuned run and what it logs, pruning per boosting round, resuming a study with
a raised budget. Slow (`make test-slow`): pruning per CV fold, resume after kill -9, two workers
on SQLite, a Hydra multirun, and trials orphaned by kill -9.

Every run here uses small data and a shrunken XGBoost space (few, shallow trees, one thread:
the machine has two cores and is shared), so a trial costs well under a second.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mlflow
import optuna
import pandas as pd
import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf, open_dict
from optuna.trial import TrialState

from growthlab.build import build
from growthlab.errors import UserError
from growthlab.paths import ROOT
from growthlab.runner import RunResult, run
from growthlab.search_space import Param, parse_space
from growthlab.study_report import Progress
from tests.conftest import compose_config, growthlab, one_line_error, store_overrides

EXPERIMENT = "lead_scoring-simulated_leads"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# Below task.cv_below_rows, so a trial is a 3-fold cross-validation reporting once per fold.
FAST = [
    "dataset.n_rows=4000",
    "task.importance_rows=500",
    "task.cv_folds=3",
    "model.n_jobs=1",
    "tuner.progress=false",
]
# The same shrinking for a subprocess: a dict override merges into search_space.
SMALL_SPACE = {
    "model.n_estimators": {"type": "int", "low": 10, "high": 40, "step": 10},
    "model.max_depth": {"type": "int", "low": 2, "high": 5},
}
SMALL_SPACE_ARG = (
    "search_space={model.n_estimators: {type: int, low: 10, high: 40, step: 10}, "
    "model.max_depth: {type: int, low: 2, high: 5}}"
)


# --------------------------------------------------------------------------------- helpers


def tuned_config(store: Path, *overrides: str, tuner: str = "tpe") -> DictConfig:
    """The config of `python -m growthlab tuner=<tuner> <overrides>`, with a small space."""
    cfg = compose_config([f"tuner={tuner}", *FAST, *overrides, *store_overrides(store)])
    for key, spec in SMALL_SPACE.items():
        cfg.search_space[key] = spec
    return cfg


def client(store: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{store}/mlflow.db")


def all_runs(store: Path) -> list[Run]:
    mlflow_client = client(store)
    experiment = mlflow_client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return []
    return mlflow_client.search_runs([experiment.experiment_id], max_results=1000)


def children(store: Path, parent_id: str) -> list[Run]:
    return [r for r in all_runs(store) if r.data.tags.get("mlflow.parentRunId") == parent_id]


def parents(store: Path) -> list[Run]:
    runs = [r for r in all_runs(store) if "mlflow.parentRunId" not in r.data.tags]
    return sorted(runs, key=lambda r: r.info.start_time)


def load_study(store: Path, cfg: DictConfig) -> optuna.Study:
    return optuna.load_study(
        study_name=cfg.tuner.study_name, storage=f"sqlite:///{store}/optuna.db"
    )


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=FINISHED)


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows from an Optuna SQLite file another process may be writing (read-only, no DDL)."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet, or a writer holds the lock
        return []


def trial_states(db: Path) -> list[str]:
    return [row[0] for row in query(db, "select state from trials")]


def runs_in_store(store: Path) -> int:
    db = store / "mlflow.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return con.execute("select count(*) from runs").fetchone()[0]


def trials_in_store(store: Path) -> int:
    return len(trial_states(store / "optuna.db"))


# ---------------------------------------------------------------------- 1. parse_space


def _known(key: str) -> bool:
    return key in {
        "model.max_depth",
        "model.learning_rate",
        "model.subsample",
        "model.n_estimators",
        "preprocessing.max_categories",
        "seed",
        "tuner.n_trials",
    }


def test_parse_space_every_distribution_kind() -> None:
    space = {
        "model.subsample": {"type": "float", "low": 0.5, "high": 1.0},
        "model.max_depth": {"type": "int", "low": 2, "high": 8},
        "model.learning_rate": {"type": "log", "low": 0.01, "high": 0.3},
        "preprocessing.max_categories": {"type": "categorical", "choices": [10, 30, 100]},
        "model.n_estimators": {"type": "int", "low": 100, "high": 800, "step": 50},
    }
    params = {p.key: p for p in parse_space(OmegaConf.create(space), _known)}
    assert params["model.subsample"] == Param("model.subsample", "float", 0.5, 1.0)
    assert params["model.max_depth"] == Param("model.max_depth", "int", 2, 8)
    assert params["model.learning_rate"].log  # type: log is a float on a log scale
    assert params["preprocessing.max_categories"].choices == (10, 30, 100)
    assert params["model.n_estimators"].step == 50

    # What Optuna records for them, and that every suggestion respects the distribution.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask()
        values = {key: p.suggest(trial) for key, p in params.items()}
        study.tell(trial, 0.0)
        assert 0.5 <= values["model.subsample"] <= 1.0
        assert isinstance(values["model.max_depth"], int) and 2 <= values["model.max_depth"] <= 8
        assert 0.01 <= values["model.learning_rate"] <= 0.3
        assert values["preprocessing.max_categories"] in (10, 30, 100)
        assert values["model.n_estimators"] in range(100, 801, 50)
    dists = study.trials[0].distributions
    assert isinstance(dists["model.subsample"], optuna.distributions.FloatDistribution)
    assert not dists["model.subsample"].log
    assert isinstance(dists["model.max_depth"], optuna.distributions.IntDistribution)
    assert dists["model.learning_rate"].log
    assert isinstance(
        dists["preprocessing.max_categories"], optuna.distributions.CategoricalDistribution
    )
    assert dists["model.n_estimators"].step == 50


def test_parse_space_log_flag_and_float_step() -> None:
    space = {
        "model.max_depth": {"type": "int", "low": 1, "high": 64, "log": True},
        "model.subsample": {"type": "float", "low": 0.5, "high": 1.0, "step": 0.1},
    }
    params = {p.key: p for p in parse_space(space, _known)}
    assert params["model.max_depth"].log and params["model.max_depth"].type == "int"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(10):
        trial = study.ask()
        depth = params["model.max_depth"].suggest(trial)
        subsample = params["model.subsample"].suggest(trial)
        study.tell(trial, 0.0)
        assert isinstance(depth, int) and 1 <= depth <= 64
        assert 0.5 <= subsample <= 1.0 and subsample * 10 == pytest.approx(round(subsample * 10))
    dists = study.trials[0].distributions
    assert dists["model.max_depth"].log
    assert dists["model.subsample"].step == 0.1


def test_parse_space_empty_is_empty() -> None:
    assert parse_space({}, _known) == []


SPACE_MISTAKES = {
    "unknown type": (
        {"model.max_depth": {"type": "gaussian", "low": 1, "high": 2}},
        ["search_space.model.max_depth", "'gaussian'", "float, int, log, categorical"],
    ),
    "missing type": (
        {"model.max_depth": {"low": 1, "high": 2}},
        ["search_space.model.max_depth", "None", "float, int, log, categorical"],
    ),
    "key not in config": (
        {"model.max_dept": {"type": "int", "low": 1, "high": 2}},
        ["search_space.model.max_dept", "model.max_depth"],
    ),
    "key outside model/preprocessing": (
        {"tuner.n_trials": {"type": "int", "low": 1, "high": 2}},
        ["search_space.tuner.n_trials", "model or preprocessing"],
    ),
    "low above high": (
        {"model.max_depth": {"type": "int", "low": 8, "high": 2}},
        ["search_space.model.max_depth", "low <= high", "low=8", "high=2"],
    ),
    "missing high": (
        {"model.subsample": {"type": "float", "low": 0.5}},
        ["search_space.model.subsample", "low <= high", "high=None"],
    ),
    "log with low at zero": (
        {"model.learning_rate": {"type": "log", "low": 0.0, "high": 0.3}},
        ["search_space.model.learning_rate", "low > 0"],
    ),
    "log flag with negative low": (
        {"model.subsample": {"type": "float", "low": -1.0, "high": 1.0, "log": True}},
        ["search_space.model.subsample", "low > 0", "-1.0"],
    ),
    "empty choices": (
        {"preprocessing.max_categories": {"type": "categorical", "choices": []}},
        ["search_space.preprocessing.max_categories", "non-empty choices"],
    ),
    "categorical without choices": (
        {"preprocessing.max_categories": {"type": "categorical"}},
        ["search_space.preprocessing.max_categories", "non-empty choices"],
    ),
    "unknown setting": (
        {"model.max_depth": {"type": "int", "low": 1, "high": 4, "stepp": 1}},
        ["search_space.model.max_depth", "'stepp'", "type, low, high, log, step or choices"],
    ),
}


@pytest.mark.parametrize("case", SPACE_MISTAKES)
def test_parse_space_mistakes_are_user_errors(case: str) -> None:
    space, hints = SPACE_MISTAKES[case]
    with pytest.raises(UserError) as caught:
        parse_space(OmegaConf.create(space), _known)
    message = str(caught.value)
    assert "\n" not in message
    for hint in hints:
        assert hint in message, message


def test_parse_space_checks_every_entry_not_only_the_first() -> None:
    space = {
        "model.max_depth": {"type": "int", "low": 2, "high": 8},
        "model.subsample": {"type": "float", "low": 1.0, "high": 0.5},
    }
    with pytest.raises(UserError, match="search_space.model.subsample"):
        parse_space(space, _known)


# Mistakes Optuna would only refuse inside the first trial: caught before any run starts.
LATE_MISTAKES = {
    "step with log (type log)": {
        "model.learning_rate": {"type": "log", "low": 0.01, "high": 0.3, "step": 0.01}
    },
    "step with log: true (int)": {
        "model.max_depth": {"type": "int", "low": 1, "high": 8, "step": 2, "log": True}
    },
    "step of zero (float)": {
        "model.subsample": {"type": "float", "low": 0.5, "high": 1.0, "step": 0}
    },
    "negative step (int)": {"model.max_depth": {"type": "int", "low": 1, "high": 8, "step": -1}},
    "a number instead of a distribution": {"model.max_depth": 5},
    "null instead of a distribution": {"model.max_depth": None},
    "bounds that are not numbers": {"model.subsample": {"type": "float", "low": "a", "high": 1}},
}


@pytest.mark.parametrize("case", LATE_MISTAKES)
def test_parse_space_catches_what_optuna_would_refuse(case: str) -> None:
    with pytest.raises(UserError, match="search_space"):
        params = parse_space(OmegaConf.create(LATE_MISTAKES[case]), _known)
        trial = optuna.create_study().ask()  # parse_space said yes: Optuna must agree
        for param in params:
            param.suggest(trial)


TUNER_MISTAKES = {
    "grid sampler": (["tuner.sampler=grid"], "tuner.sampler='grid' is unknown"),
    "unknown pruner": (["tuner.pruner=sometimes"], "tuner.pruner='sometimes' is unknown"),
    "direction": (["tuner.direction=up"], "tuner.direction='up'"),
    "role": (["tuner.role=boss"], "tuner.role='boss'"),
    "no trials": (["tuner.n_trials=0"], "tuner.n_trials"),
    "no workers": (["tuner.n_workers=0"], "tuner.n_workers"),
}


@pytest.mark.parametrize("case", TUNER_MISTAKES)
def test_tuner_setting_mistakes_are_user_errors(case: str) -> None:
    overrides, hint = TUNER_MISTAKES[case]
    cfg = compose_config(["tuner=tpe", *overrides])
    with pytest.raises(UserError) as caught:
        build(cfg.tuner, "tuner")
    assert hint in str(caught.value)


def test_unknown_metric_names_the_known_ones() -> None:
    cfg = compose_config(["tuner=tpe", "tuner.metric=valid_nonsense"])
    task, tuner = build(cfg.task, "task"), build(cfg.tuner, "tuner")
    with pytest.raises(UserError) as caught:
        tuner.objective(task.metric_names(), task.objective, task.minimized)
    assert "tuner.metric='valid_nonsense'" in str(caught.value)
    assert "valid_roc_auc" in str(caught.value)


@pytest.mark.parametrize(
    ("metric", "direction"),
    [(None, "maximize"), ("valid_log_loss", "minimize"), ("valid_lift_at_10pct", "maximize")],
)
def test_objective_metric_and_direction(metric: str | None, direction: str) -> None:
    cfg = compose_config(["tuner=tpe", f"tuner.metric={metric or 'null'}"])
    task, tuner = build(cfg.task, "task"), build(cfg.tuner, "tuner")
    chosen = tuner.objective(task.metric_names(), task.objective, task.minimized)
    assert chosen == (metric or "valid_roc_auc", direction)


# ------------------------------------------------------------- 2. the same through the CLI

CLI_SPACE_MISTAKES = {
    "unknown type": ("model.max_depth: {type: gaussian, low: 1, high: 2}", "'gaussian'"),
    "key not in config": ("model.max_dept: {type: int, low: 1, high: 2}", "model.max_dept"),
    "key outside model/preprocessing": ("seed: {type: int, low: 1, high: 2}", "preprocessing"),
    "low above high": ("model.max_depth: {type: int, low: 8, high: 2}", "low <= high"),
    "log with low <= 0": ("model.learning_rate: {type: log, low: 0, high: 0.3}", "low > 0"),
    "empty choices": ("preprocessing.max_categories: {type: categorical, choices: []}", "choices"),
    "unknown setting": ("model.max_depth: {type: int, low: 1, high: 4, stepp: 1}", "'stepp'"),
    "log with step": ("model.learning_rate: {type: log, low: 0.01, high: 0.3, step: 0.01}", "step"),
}
CLI_TUNER_MISTAKES = {
    "unknown metric": (["tuner.metric=valid_nonsense"], "valid_roc_auc"),
    "grid sampler": (["tuner.sampler=grid"], "'grid'"),
}


@pytest.fixture(scope="module")
def cli_mistakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every CLI mistake, run three at a time (each process costs ~3 s of imports)."""
    jobs: dict[str, tuple[list[str], Path]] = {}
    for case, (line, _) in CLI_SPACE_MISTAKES.items():
        folder = tmp_path_factory.mktemp("conf")
        (folder / "search_space").mkdir()
        (folder / "search_space" / "broken.yaml").write_text(line + "\n")
        # --config-dir adds a folder; `search_space=broken` picks the file from it.
        args = ["--config-dir", str(folder), "tuner=tpe", "search_space=broken"]
        jobs[case] = (args, tmp_path_factory.mktemp("store"))
    for case, (args, _) in CLI_TUNER_MISTAKES.items():
        jobs[case] = (["tuner=tpe", *args], tmp_path_factory.mktemp("store"))
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = {
            case: pool.submit(growthlab, *args, "dataset.n_rows=2000", store=store)
            for case, (args, store) in jobs.items()
        }
        return {case: (future.result(), jobs[case][1]) for case, future in done.items()}


@pytest.mark.parametrize("case", [*CLI_SPACE_MISTAKES, *CLI_TUNER_MISTAKES])
def test_cli_tuning_mistake_is_one_line_before_any_run(
    case: str, cli_mistakes: dict[str, Any]
) -> None:
    done, store = cli_mistakes[case]
    hint = {**CLI_SPACE_MISTAKES, **CLI_TUNER_MISTAKES}[case][1]
    line = one_line_error(done)
    assert hint in line, line
    assert runs_in_store(store) == 0  # no parent run, no trial run
    assert trials_in_store(store) == 0  # and no Optuna trial


# ---------------------------------------------------------------------- 3. a tuned run


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path, DictConfig]:
    store = tmp_path_factory.mktemp("tuned")
    cfg = tuned_config(store, "tuner.n_trials=6")
    result = run(cfg)
    assert result is not None
    return result, store, cfg


def test_tuned_parent_run_logs_the_study(tuned: tuple[RunResult, Path, DictConfig]) -> None:
    result, store, cfg = tuned
    parent = client(store).get_run(result.run_id)
    assert parent.info.status == "FINISHED"
    assert [r.info.run_id for r in parents(store)] == [result.run_id]
    study = load_study(store, cfg)
    params, metrics = parent.data.params, parent.data.metrics
    for key in cfg.search_space:
        assert f"best.{key}" in params
        assert params[f"best.{key}"] == str(study.best_params[key])
    assert metrics["best_valid_roc_auc"] == pytest.approx(study.best_value)
    assert 0.5 < metrics["best_valid_roc_auc"] <= 1.0
    assert metrics["trials_complete"] + metrics["trials_pruned"] == 6
    assert metrics["trials_complete"] >= 1
    # The final model: best params refitted on train + valid, judged once on test.
    assert 0.5 < metrics["test_roc_auc"] <= 1.0
    assert "test_lift_at_10pct" in metrics
    assert not any(k.startswith("valid_") for k in metrics)  # valid went into the refit


def test_tuned_run_logs_plots_and_trials_table(
    tuned: tuple[RunResult, Path, DictConfig], tmp_path: Path
) -> None:
    result, store, _ = tuned
    mlflow_client = client(store)
    plots = {a.path for a in mlflow_client.list_artifacts(result.run_id, "plots")}
    assert {"plots/optimization_history.png", "plots/param_importances.png"} <= plots
    assert "plots/parallel_coordinate.png" in plots  # 6 trials, 7 params: it applies
    path = mlflow_client.download_artifacts(result.run_id, "tables/trials.csv", str(tmp_path))
    table = pd.read_csv(path)
    assert len(table) == 6
    assert set(table["state"]) <= {"COMPLETE", "PRUNED"}
    assert "params_model.max_depth" in table.columns


def test_study_plots_are_not_left_open_in_pyplot(
    tuned: tuple[RunResult, Path, DictConfig], tmp_path: Path
) -> None:
    from matplotlib import pyplot

    from growthlab import study_report

    _, store, cfg = tuned
    before = pyplot.get_fignums()
    drawn = dict(study_report.figures(load_study(store, cfg)))
    assert "optimization_history" in drawn
    assert pyplot.get_fignums() == before  # released from pyplot's registry...
    drawn["optimization_history"].savefig(tmp_path / "history.png")  # ...and still drawable
    assert (tmp_path / "history.png").stat().st_size > 0


def test_tuned_run_model_loads_and_scores(tuned: tuple[RunResult, Path, DictConfig]) -> None:
    result, store, _ = tuned
    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    rows = result.data.parts["test"].X.head(20)
    scores = mlflow.pyfunc.load_model(result.model_uri).predict(rows)["score"]
    assert len(scores) == 20 and scores.between(0, 1).all()


def test_first_trial_is_the_config_as_written(tuned: tuple[RunResult, Path, DictConfig]) -> None:
    """start_from_config: the defaults the space admits are tried first; the rest is sampled."""
    _, store, cfg = tuned
    first = load_study(store, cfg).trials[0].params
    for key in ("model.learning_rate", "model.subsample", "model.reg_lambda"):
        assert first[key] == pytest.approx(OmegaConf.select(cfg, key)), key
    # model.n_estimators=300 lies outside this test's 10..40 space: the sampler chose it.
    assert 10 <= first["model.n_estimators"] <= 40


def test_without_a_terminal_each_trial_is_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    study = optuna.create_study(direction="maximize")
    progress = Progress(study, total=3, enabled=True)  # pytest's stderr is no terminal
    with caplog.at_level("INFO", logger="growthlab.study_report"), progress:
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), 3, callbacks=[progress])
    lines = [r.getMessage() for r in caplog.records if r.name == "growthlab.study_report"]
    values = [f"{t.value:.4f}" for t in study.trials]
    assert lines == [f"trial {i} complete: {v}" for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("param", "value", "admitted"),
    [
        (Param("k", "int", 100, 800, step=50), 300, True),
        (Param("k", "int", 100, 800, step=50), 320, False),
        (Param("k", "int", 2, 6), 7, False),
        (Param("k", "int", 2, 6), 2.5, False),
        (Param("k", "log", 0.01, 0.1, log=True), 0.1, True),
        (Param("k", "float", 0.5, 1.0), "0.7", False),
        (Param("k", "categorical", choices=("a", "b")), "b", True),
        (Param("k", "categorical", choices=("a", "b")), "c", False),
    ],
)
def test_param_admits_only_values_its_distribution_can_draw(
    param: Param, value: object, admitted: bool
) -> None:
    assert param.admits(value) is admitted


def test_tuned_run_has_one_child_run_per_trial(tuned: tuple[RunResult, Path, DictConfig]) -> None:
    result, store, cfg = tuned
    kids = children(store, result.run_id)
    assert len(kids) == 6
    assert len(all_runs(store)) == 7  # the parent and its six trials, nothing else
    study = load_study(store, cfg)
    trials = {t.number: t for t in study.trials}
    assert len(finished(study)) == 6 and len(trials) == 6
    by_number = {}
    for kid in kids:
        assert kid.info.status in ("FINISHED", "FAILED")
        assert kid.data.tags["optuna.state"] in ("COMPLETE", "PRUNED")
        number = int(kid.data.tags["optuna.trial"])
        by_number[number] = kid
        trial = trials[number]
        assert kid.data.tags["optuna.state"] == trial.state.name
        assert kid.info.run_name == f"trial-{number}"
        assert {k: kid.data.params[k] for k in trial.params} == {
            k: str(v) for k, v in trial.params.items()
        }
        if trial.state == TrialState.COMPLETE:
            assert kid.data.metrics["valid_roc_auc"] == pytest.approx(trial.value)
    assert sorted(by_number) == list(range(6))


# ----------------------------------------------------------------------------- 4. pruning


@pytest.mark.parametrize(
    ("path", "overrides", "steps"),
    [
        # Large-data path (forced with cv_below_rows=0): one split, a report per boosting round.
        ("boosting rounds", ["task.cv_below_rows=0", "model.n_estimators=30"], 30),
        # Small-data path: 3-fold cross-validation, a report per fold.
        pytest.param("cv folds", ["model.n_estimators=30"], 3, marks=pytest.mark.slow),
    ],
)
def test_median_pruner_stops_hopeless_trials(
    path: str, overrides: list[str], steps: int, tmp_path: Path
) -> None:
    cfg = tuned_config(
        tmp_path, "tuner.n_trials=12", "tuner.pruner=median", *overrides, tuner="random"
    )
    with open_dict(cfg):
        del cfg.search_space["model.n_estimators"]  # fixed: every trial has the same steps
    cfg.search_space["model.learning_rate"] = {"type": "log", "low": 1e-4, "high": 1.0}
    result = run(cfg)
    assert result is not None
    study = load_study(tmp_path, cfg)
    assert len(finished(study)) == 12
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert pruned, f"no trial pruned on the {path} path"
    kids = {int(r.data.tags["optuna.trial"]): r for r in children(tmp_path, result.run_id)}
    assert len(kids) == 12
    for trial in pruned:
        kid = kids[trial.number]
        assert kid.info.status == "FINISHED"
        assert kid.data.tags["optuna.state"] == "PRUNED"
        at = kid.data.metrics["pruned_at_step"]
        assert at == trial.last_step
        assert cfg.tuner.warmup_steps <= at < steps
        assert "valid_roc_auc" not in kid.data.metrics
    metrics = client(tmp_path).get_run(result.run_id).data.metrics
    assert metrics["trials_pruned"] == len(pruned)


# ------------------------------------------------------------------------------- 5. resume


@pytest.fixture(scope="module")
def resumed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[RunResult, RunResult, Path, DictConfig]:
    """A study of 3 trials, then the same command with tuner.n_trials=5."""
    store = tmp_path_factory.mktemp("resumed")
    first = run(tuned_config(store, "tuner.n_trials=3"))
    cfg = tuned_config(store, "tuner.n_trials=5")
    second = run(cfg)
    assert first is not None and second is not None
    return first, second, store, cfg


def test_rerun_with_a_raised_budget_resumes_the_study(
    resumed: tuple[RunResult, RunResult, Path, DictConfig],
) -> None:
    first, second, store, cfg = resumed
    study = load_study(store, cfg)
    assert len(study.trials) == 5 and len(finished(study)) == 5
    assert len(children(store, first.run_id)) == 3
    second_kids = children(store, second.run_id)
    assert len(second_kids) == 2
    assert sorted(int(r.data.tags["optuna.trial"]) for r in second_kids) == [3, 4]
    metrics = client(store).get_run(second.run_id).data.metrics
    assert metrics["trials_complete"] + metrics["trials_pruned"] == 5  # the whole study


def repeated_params(study: optuna.Study) -> list[list[int]]:
    """Groups of trial numbers that were given exactly the same params."""
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for trial in study.get_trials(deepcopy=False, states=FINISHED):
        groups.setdefault(tuple(sorted(trial.params.items())), []).append(trial.number)
    return [numbers for numbers in groups.values() if len(numbers) > 1]


def test_resumed_study_does_not_repeat_params(
    resumed: tuple[RunResult, RunResult, Path, DictConfig],
) -> None:
    _, _, store, cfg = resumed
    assert repeated_params(load_study(store, cfg)) == []  # today: [[0, 3], [1, 4]]


def start_tuning(store: Path, *args: str) -> subprocess.Popen[bytes]:
    """`python -m growthlab tuner=tpe ...` in the background; its stderr goes to a file."""
    with open(store.parent / "tuning.stderr", "ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "growthlab", "tuner=tpe", *FAST, SMALL_SPACE_ARG, *args]
            + store_overrides(store),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def kill_9_mid_trial(proc: subprocess.Popen[bytes], store: Path, n_params: int) -> None:
    """SIGKILL the process in the middle of a trial (after another one has finished).

    Mid-trial means RUNNING with a heartbeat and all its params sampled: Optuna records the
    first heartbeat a moment after creating a trial, and one killed in between is never failed
    as stale (see test_orphan_trial_without_heartbeat_does_not_eat_the_budget).
    """
    db = store / "optuna.db"
    mid_trial = (
        "select count(distinct p.param_name) from trials t "
        "join trial_heartbeats h using (trial_id) join trial_params p using (trial_id) "
        "where t.state = 'RUNNING'"
    )
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        states = trial_states(db)
        sampled = query(db, mid_trial)
        if ("COMPLETE" in states or "PRUNED" in states) and sampled == [(n_params,)]:
            break
        time.sleep(0.05)
    assert proc.poll() is None, (store.parent / "tuning.stderr").read_text()[-3000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_resume_after_kill_9_fails_and_retries_the_stale_trial(store: Path) -> None:
    beat = "tuner.heartbeat_seconds=1"
    cfg = tuned_config(store, "tuner.n_trials=6", beat)
    kill_9_mid_trial(start_tuning(store, "tuner.n_trials=4", beat), store, len(cfg.search_space))
    states = trial_states(store / "optuna.db")
    assert "RUNNING" in states, states
    assert "RUNNING" in [r.info.status for r in all_runs(store)]  # the parent is orphaned

    result = run(cfg)
    assert result is not None
    study = load_study(store, cfg)
    assert len(finished(study)) == 6
    stale = [t for t in study.trials if t.state == TrialState.FAIL]
    assert len(stale) == 1, [t.state for t in study.trials]
    # Retried once with the same params: queued by Optuna's heartbeat callback (failed_trial)
    # or by the runner (enqueue_trial: fixed_params).
    assert stale[0].params, "killed before its params were sampled"
    retries = [
        t
        for t in study.trials
        if t.system_attrs.get("failed_trial") == stale[0].number
        or (t.number > stale[0].number and t.system_attrs.get("fixed_params") == stale[0].params)
    ]
    assert len(retries) == 1, [(t.number, t.system_attrs) for t in study.trials]
    assert retries[0].state in FINISHED
    assert retries[0].params == stale[0].params
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    # The orphaned parent and trial runs were closed by the rerun; nothing is left RUNNING.
    statuses = [r.info.status for r in all_runs(store)]
    assert "RUNNING" not in statuses
    assert statuses.count("KILLED") in (1, 2)  # the parent, and the trial's run if it had begun
    killed_parent = [r for r in parents(store) if r.info.run_id != result.run_id]
    assert [r.info.status for r in killed_parent] == ["KILLED"]
    assert client(store).get_run(result.run_id).info.status == "FINISHED"
    done_before_kill = states.count("COMPLETE") + states.count("PRUNED")
    assert len(children(store, result.run_id)) == 6 - done_before_kill


@pytest.mark.slow
def test_immediate_rerun_after_kill_9_still_reaches_the_budget(store: Path) -> None:
    beat = "tuner.heartbeat_seconds=120"  # the rerun ends well within the 240 s grace period
    cfg = tuned_config(store, "tuner.n_trials=3", beat)
    kill_9_mid_trial(start_tuning(store, "tuner.n_trials=3", beat), store, len(cfg.search_space))
    assert run(cfg) is not None
    study = load_study(store, cfg)
    assert len(finished(study)) == 3, [t.state.name for t in study.trials]


@pytest.mark.slow
def test_orphan_trial_without_heartbeat_does_not_eat_the_budget(store: Path) -> None:
    cfg = tuned_config(store, "tuner.n_trials=2", "tuner.heartbeat_seconds=1")
    assert run(cfg) is not None
    # What kill -9 between Optuna's ask() and the trial's first heartbeat leaves behind
    # (2 of 3 kills at the first sight of a RUNNING trial did, on this machine).
    orphan = load_study(store, cfg).ask()
    time.sleep(2.5)  # older than the grace period: no excuse left
    cfg = tuned_config(store, "tuner.n_trials=4", "tuner.heartbeat_seconds=1")
    assert run(cfg) is not None
    study = load_study(store, cfg)
    assert study.trials[orphan.number].state != TrialState.RUNNING
    assert len(finished(study)) == 4, [t.state.name for t in study.trials]


# ---------------------------------------------------------------------- 6. two workers


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path, DictConfig]:
    """tuner.n_workers=2 on SQLite: this process and one spawned `growthlab.worker`."""
    store = tmp_path_factory.mktemp("workers")
    # Trials long enough (5 folds, up to 120 trees) that the spawned worker gets some.
    cfg = tuned_config(store, "tuner.n_trials=10", "tuner.n_workers=2", "task.cv_folds=5")
    cfg.search_space["model.n_estimators"] = {"type": "int", "low": 60, "high": 120, "step": 20}
    result = run(cfg)
    assert result is not None
    return result, store, cfg


@pytest.mark.slow
def test_two_workers_share_one_study_on_sqlite(
    two_workers: tuple[RunResult, Path, DictConfig],
) -> None:
    result, store, cfg = two_workers
    study = load_study(store, cfg)
    assert len(finished(study)) == 10
    extra = [t for t in study.trials if t.state not in FINISHED]
    assert all(t.user_attrs.get("surplus") for t in extra), extra  # a worker stepping aside
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    kids = children(store, result.run_id)
    assert len(kids) == 10
    assert sorted(int(r.data.tags["optuna.trial"]) for r in kids) == sorted(
        t.number for t in finished(study)
    )
    assert len(parents(store)) == 1
    assert len(all_runs(store)) == 11
    pids = {r.data.tags["growthlab.pid"] for r in kids}
    assert len(pids) == 2, "the spawned worker ran no trial"
    assert str(os.getpid()) in pids


@pytest.mark.slow
def test_two_workers_do_not_repeat_each_others_params(
    two_workers: tuple[RunResult, Path, DictConfig],
) -> None:
    _, store, cfg = two_workers
    assert repeated_params(load_study(store, cfg)) == []


# ------------------------------------------------------------------------ 7. Hydra sweep


@pytest.fixture
def own_multirun_records(store: Path) -> Iterator[None]:
    """Remove the records Hydra writes under ROOT/multirun for this test (and only those)."""
    folder = ROOT / "multirun"
    existed = folder.exists()
    before = set(folder.iterdir()) if existed else set()
    yield
    if not folder.exists():
        return
    for entry in set(folder.iterdir()) - before:
        record = entry / "multirun.yaml"
        if record.is_file() and str(store) in record.read_text():
            shutil.rmtree(entry)
    if not existed and not any(folder.iterdir()):
        folder.rmdir()


@pytest.mark.slow
@pytest.mark.usefixtures("own_multirun_records")
def test_sweep_logs_one_finished_run_per_model(store: Path) -> None:
    started = time.time()
    done = growthlab(
        "--multirun",
        "experiments=lead_scoring",
        "model=xgboost,logistic_regression",
        "dataset.n_rows=3000",
        "task.importance_rows=500",
        store=store,
    )
    assert done.returncode == 0, done.stderr
    runs = all_runs(store)
    assert len(runs) == 2
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.params["model._target_"] for r in runs} == {
        "xgboost.XGBClassifier",
        "sklearn.linear_model.LogisticRegression",
    }
    experiments = [e for e in client(store).search_experiments() if e.name != "Default"]
    assert [e.name for e in experiments] == [EXPERIMENT]
    # Hydra's own records went to ROOT/multirun/<time>/ (removed again by the fixture).
    records = [
        p
        for p in (ROOT / "multirun").glob("*/multirun.yaml")
        if p.stat().st_mtime >= started - 1 and str(store) in p.read_text()
    ]
    assert len(records) == 1
