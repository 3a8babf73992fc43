"""Two accounts at once against one server, and the server restarted mid-study (slow, issue 14).

Each account runs `make tune` with two workers and a plain `make train` at the same time; the
MLflow server is stopped and started again while the studies run. Every process must finish,
with exactly the requested trials and runs, none left RUNNING and no metric lost. The figures
(trials, runs, seconds) are printed: `pytest -s -m slow tests/test_server_concurrency.py`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from growthlab.paths import ROOT
from tests.test_server import ANA, BOB, PASSWORDS, SMALL, Server, module
from tests.test_server import server as server  # noqa: F401 - the module's own server fixture

pytestmark = pytest.mark.slow

TRIALS = 4


def test_two_accounts_tune_and_train_at_once_through_a_server_restart(server: Server) -> None:  # noqa: F811
    creds = server.credentials()
    pg_port = json.loads((server.state / "server.json").read_text())["pg_port"]
    storage = f"postgresql+psycopg2://optuna@127.0.0.1:{pg_port}/optuna"
    started = time.monotonic()
    processes = []
    for user in (ANA, BOB):
        env = {**server.env(user), "PGPASSWORD": creds["optuna_password"]}
        common = [
            "tracking=server", f"store={server.scratch}/{user}", *SMALL,
            f"tracking.experiment_name=team-{user}", f"registry.model_name=team-{user}",
        ]  # fmt: skip
        tune = [
            "tuner=tpe", f"tuner.n_trials={TRIALS}", "tuner.n_workers=2", "tuner.progress=false",
            "task.cv_folds=2", f"tuner.storage={storage}", f"tuner.study_name=team-{user}",
        ]  # fmt: skip
        for extra in (tune, []):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "growthlab", *common, *extra],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )  # fmt: skip
            )
    # Restart the tracking server once the studies are under way (its trials log to it).
    time.sleep(30)
    pid = int((server.state / "server.pid").read_text())
    os.killpg(pid, signal.SIGTERM)
    while module(server.env(None), "growthlab.server", "start", "--port",
                 server.url.rsplit(":", 1)[1]).returncode != 0:  # fmt: skip
        time.sleep(1)  # the port is released a moment after the old server exits
    restarted = time.monotonic() - started
    outcomes = [p.communicate(timeout=1800) for p in processes]
    seconds = time.monotonic() - started
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr[-3000:]

    os.environ.update(MLFLOW_TRACKING_USERNAME=ANA, MLFLOW_TRACKING_PASSWORD=PASSWORDS[ANA])
    try:
        client = MlflowClient(tracking_uri=server.url)
        figures = {}
        for user in (ANA, BOB):
            experiment = client.get_experiment_by_name(f"team-{user}")
            runs = client.search_runs([experiment.experiment_id], max_results=1000)
            study = optuna.load_study(
                study_name=f"team-{user}",
                storage=storage.replace("optuna@", f"optuna:{creds['optuna_password']}@"),
            )
            finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
            parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
            assert len(finished) == TRIALS
            assert len(parents) == 2 and len(runs) == 2 + TRIALS, [r.info.run_name for r in runs]
            assert {r.info.status for r in runs} <= {"FINISHED", "FAILED"}, user
            assert all("test_roc_auc" in r.data.metrics for r in parents)
            figures[user] = {"trials": len(finished), "runs": len(runs)}
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    print(f"\nteam figures: {figures}, restart at {restarted:.0f}s, all done in {seconds:.0f}s")
