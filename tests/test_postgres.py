"""Tuning on PostgreSQL: an Optuna study and an MLflow store on a private cluster (slow).

`make tune` with tuner.n_workers=2 (the main process and one spawned worker), then a second
process joining the same study by name with tuner.role=worker (`make tune-worker`) once the
budget is raised. The runner creates the study and the MLflow tables in its main process before
any worker starts (two processes creating a fresh database at once race, STACK.md); this test
never touches a database while a growthlab process is running.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from growthlab.paths import ROOT
from tests.postgres import Cluster, private_cluster

pytestmark = pytest.mark.slow

EXPERIMENT = "lead_scoring-simulated_leads"
STUDY = "growthlab-postgres-test"
N = 4  # trials per process of the first call: 2N in all
SMALL = [
    "dataset.n_rows=4000",
    "task.importance_rows=500",
    "tuner.progress=false",
    # Trials long enough (5 folds, up to 120 trees) that the spawned worker gets some of them.
    "search_space={model.n_estimators: {type: int, low: 60, high: 120, step: 20}, "
    "model.max_depth: {type: int, low: 2, high: 5}}",
]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    with private_cluster(databases=("optuna", "mlflow")) as cluster:
        yield cluster


def growthlab(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "growthlab", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "GROWTHLAB_DEBUG": ""},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def test_workers_share_a_study_on_postgres(postgres: Cluster, tmp_path: Path) -> None:
    stores = [
        f"tuner.storage={postgres.url('optuna')}",
        f"tracking.uri={postgres.url('mlflow')}",
        f"tracking.artifact_dir={tmp_path / 'artifacts'}",
        f"store={tmp_path / 'unused'}",  # nothing may land in the SQLite default
        f"tuner.study_name={STUDY}",
    ]
    growthlab("tuner=tpe", f"tuner.n_trials={2 * N}", "tuner.n_workers=2", *SMALL, *stores)

    study = optuna.load_study(study_name=STUDY, storage=postgres.url("optuna"))
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 2 * N
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    client = MlflowClient(tracking_uri=postgres.url("mlflow"))
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    parent = parents[0]
    kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(kids) == 2 * N == len(runs) - 1
    assert {r.info.status for r in kids} <= {"FINISHED", "FAILED"}
    assert len({r.data.tags["growthlab.pid"] for r in kids}) == 2  # main process and worker
    assert parent.data.metrics["trials_complete"] + parent.data.metrics["trials_pruned"] == 2 * N
    # The parent's artifacts (plots, model) went to tracking.artifact_dir, not the cwd.
    assert (tmp_path / "artifacts").is_dir()
    assert any((tmp_path / "artifacts").rglob("optimization_history.png"))
    assert not (tmp_path / "unused").exists()

    # make tune-worker: another process joins the study by name once the budget is raised.
    growthlab("tuner=tpe", "tuner.role=worker", f"tuner.n_trials={2 * N + 2}", *SMALL, *stores)
    study = optuna.load_study(study_name=STUDY, storage=postgres.url("optuna"))
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 2 * N + 2
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    assert [r.info.run_id for r in runs if "mlflow.parentRunId" not in r.data.tags] == [
        parent.info.run_id
    ]  # a worker starts no run of its own
    kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(kids) == 2 * N + 2
    assert "RUNNING" not in {r.info.status for r in runs}
