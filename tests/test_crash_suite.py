"""kill -9 at seeded random moments of train, tune, promote and score, CRASHES times each
(5 in CI, which must finish in 90 minutes on 2 cores; GROWTHLAB_CRASHES=20 for the full count):
afterwards the store is consistent (no RUNNING run after the next command, @champion and the
history agree), no completed trial is lost, and the scores file is either the complete new one
or the previous one."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import optuna
import pytest

from growthlab import handoff, registry
from growthlab.data.simulator import MarketingSimulator
from growthlab.paths import ROOT
from growthlab.runner import run
from tests.conftest import compose_config, growthlab, run_statuses, store_overrides

pytestmark = pytest.mark.slow

CRASHES = int(os.environ.get("GROWTHLAB_CRASHES", "5"))
NAME = "lead_scoring-simulated_leads"
TINY = ["dataset.n_rows=1500", "model=logistic_regression", "task.importance_rows=100"]
TUNE = ["tuner=random", "tuner.n_trials=6", "tuner.progress=false", "tuner.heartbeat_seconds=2"]
PREVIOUS = "previous,output\n"


def killed_at_random(args: list[str], store: Path, rng: random.Random, most: float) -> None:
    """`python -m growthlab <args>`, killed with SIGKILL after a random delay (or finished)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "growthlab", *args, *store_overrides(store)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GROWTHLAB_DEBUG": "", "GROWTHLAB_PROGRESS": "0"},
    )
    time.sleep(rng.uniform(0.5, most))
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


def connect(store: Path) -> None:
    uri = f"sqlite:///{store}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("crash")
    for seed in (0, 1):
        run(compose_config([*TINY, f"seed={seed}", *store_overrides(store)]))
    return store


def test_kill_9_while_scoring_leaves_the_previous_or_the_complete_file(
    two_versions: Path, tmp_path: Path
) -> None:
    store, rng = two_versions, random.Random(1)
    source, target = tmp_path / "leads.csv", tmp_path / "scores.csv"
    MarketingSimulator(3).leads(20000).drop(columns=["converted", "p_convert"]).to_csv(
        source, index=False
    )
    args = ["command=score", "registry.alias=challenger", "registry.scoring.chunk_rows=2000"]
    args += [f"registry.scoring.input={source}", f"registry.scoring.output={target}"]
    done = growthlab(*args, store=store)
    assert done.returncode == 0, done.stderr
    complete = target.read_bytes()
    seen = {"previous": 0, "complete": 0}
    for _ in range(CRASHES):
        target.write_text(PREVIOUS)
        killed_at_random(args, store, rng, most=12)
        now = target.read_bytes()
        assert now in (PREVIOUS.encode(), complete), len(now)
        seen["previous" if now == PREVIOUS.encode() else "complete"] += 1
    assert growthlab(*args, store=store).returncode == 0  # removes dead runs' temporaries
    assert {p.name for p in tmp_path.iterdir()} == {"leads.csv", "scores.csv"}
    print(f"score: {CRASHES} kills, {seen}")


def test_kill_9_while_promoting_keeps_alias_and_history_in_agreement(two_versions: Path) -> None:
    store, rng = two_versions, random.Random(2)
    for i in range(CRASHES):
        version = str(1 + i % 2)
        args = ["command=promote", f"registry.version={version}", "registry.force=true"]
        args += ["registry.reason=crash", "registry.gate.resamples=100"]
        killed_at_random(args, store, rng, most=15)
    done = growthlab("command=history", store=store)  # the next command
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    connect(store)
    # whichever version the kills left as champion, promote the other one
    other = "2" if registry.alias_version(NAME, registry.CHAMPION) == "1" else "1"
    handoff.promote(
        compose_config(
            ["command=promote", f"registry.version={other}", "registry.force=true"]
            + ["registry.reason=after", "registry.gate.resamples=100", *store_overrides(store)]
        )
    )  # closes whatever the kills left pending
    records = registry.decisions(NAME)
    assert all(r["status"] in ("done", "interrupted") for r in records), records
    moved = [r for r in records if r["moved"]]
    assert registry.alias_version(NAME, registry.CHAMPION) == str(moved[-1]["version"])
    assert not registry.promotion_running(NAME)
    statuses = [r["status"] for r in records]
    print(f"promote: {CRASHES} kills, {statuses.count('interrupted')} interrupted records")


def test_kill_9_while_training_leaves_no_running_run(two_versions: Path) -> None:
    store, rng = two_versions, random.Random(3)
    for _ in range(CRASHES):
        killed_at_random(TINY, store, rng, most=15)
    done = growthlab(*TINY, store=store)  # the next command closes the orphans
    assert done.returncode == 0, done.stderr
    assert "RUNNING" not in run_statuses(store)
    connect(store)
    for alias in (registry.CHAMPION, registry.CHALLENGER):
        version = registry.alias_version(NAME, alias)
        if version is not None:
            assert registry.model_version(NAME, version=version).run_status == "FINISHED"


def test_kill_9_while_tuning_loses_no_completed_trial(tmp_path: Path) -> None:
    store, rng = tmp_path / "mlruns", random.Random(4)
    storage = f"sqlite:///{store}/optuna.db"
    completed: set[int] = set()
    for _ in range(CRASHES):
        killed_at_random([*TINY, *TUNE, "tuner.n_trials=30"], store, rng, most=20)
        if not (store / "optuna.db").exists():
            continue
        with sqlite3.connect(store / "optuna.db") as con:
            if not con.execute("select name from sqlite_master where name='studies'").fetchall():
                continue
        for summary in optuna.get_all_study_summaries(storage):
            study = optuna.load_study(study_name=summary.study_name, storage=storage)
            now = {t.number for t in study.trials if t.state.name == "COMPLETE"}
            assert completed <= now, "a completed trial was lost"
            completed = now
    done = growthlab(*TINY, *TUNE, "tuner.n_trials=30", store=store, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "RUNNING" not in run_statuses(store)
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) >= 30 and completed <= {t.number for t in finished}
    print(f"tune: {CRASHES} kills, {len(completed)} trials completed before the last kill")
