"""kill -9 at seeded random moments of train, tune, promote and score, CRASHES times each
(3 in CI, which keeps it to minutes on 2 cores; GROWTHLAB_CRASHES=20 for the full count):
afterwards the store is consistent (no RUNNING run after the next command, @champion and the
history agree), no completed trial is lost, and the scores file is either the complete new
one or the previous one.

A kill's moment is drawn over the measured wall time of an unkilled run of the same command
(on a shared machine a fixed window lands everything in the imports). Promotion's alias move
is short, so two kills in three are drawn over the time the promotion lock was held, or the
time its decision was pending, counted from the moment the lock or the record appears. Each
test prints what the kills hit (pytest -s shows it).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
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

CRASHES = int(os.environ.get("GROWTHLAB_CRASHES", "3"))
NAME = "lead_scoring-simulated_leads"
TINY = ["dataset.n_rows=1500", "model=logistic_regression", "task.importance_rows=100"]
TUNE = ["tuner=random", "tuner.progress=false", "tuner.heartbeat_seconds=2"]
TRIALS = 8  # trials each tuning run adds to the study
PREVIOUS = "previous,output\n"


def launch(args: list[str], store: Path) -> subprocess.Popen[bytes]:
    """`python -m growthlab <args>` on the store, in its own process group (so a kill takes
    any child with it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "growthlab", *args, *store_overrides(store)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "GROWTHLAB_DEBUG": "", "GROWTHLAB_PROGRESS": "0"},
        start_new_session=True,
    )


def until(process: subprocess.Popen[bytes], condition: Callable[[], bool]) -> float | None:
    """Poll until condition() holds (the monotonic time then) or the process ends (None)."""
    while process.poll() is None:
        if condition():
            return time.monotonic()
        time.sleep(0.005)
    return None


def measured(
    args: list[str], store: Path, phase: Callable[[], bool] | None = None
) -> tuple[float, float]:
    """Wall seconds of an unkilled run of the command, and how long `phase()` held in it."""
    process, start = launch(args, store), time.monotonic()
    began = until(process, phase) if phase else None
    ended = until(process, lambda: not phase()) if began is not None and phase else None
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr.decode()[-2000:]
    held = (ended or time.monotonic()) - began if began is not None else 0.0
    return time.monotonic() - start, held


def killed_at_random(
    args: list[str],
    store: Path,
    rng: random.Random,
    longest: float,
    after: Callable[[], bool] | None = None,
) -> bool:
    """The command, killed with SIGKILL at a random moment of [0, longest] s from its start
    (or from when `after()` first holds). True if the kill hit it, False if it ended first."""
    process = launch(args, store)
    start = time.monotonic() if after is None else until(process, after)
    if start is not None:
        deadline = start + rng.uniform(0, longest)
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    killed = process.poll() is None
    if killed:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    return killed


def query(store: Path, sql: str, *args: str) -> list[tuple]:
    """Rows of the MLflow store, read beside the process under test. Not read-only: after a
    kill mid-write, the first reader must roll the dead writer's journal back."""
    try:
        with sqlite3.connect(store / "mlflow.db", timeout=5) as con:
            return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # not created yet, or busy for longer than the timeout
        return []


def locked(store: Path) -> bool:
    """The model's promotion lock exists (a promotion is between judging and recording)."""
    sql = "select 1 from registered_models where name = ?"
    return bool(query(store, sql, NAME + registry.LOCK_SUFFIX))


def pending(store: Path) -> set[str]:
    """Keys of the decisions recorded as pending: promotions that died between their records."""
    sql = "select key, value from registered_model_tags where name = ? and key like ?"
    rows = query(store, sql, NAME, registry.DECISION_TAG + "%")
    return {k for k, v in rows if json.loads(v).get("status") == registry.PENDING}


def champion(store: Path) -> str | None:
    sql = "select version from registered_model_aliases where name = ? and alias = ?"
    rows = query(store, sql, NAME, registry.CHAMPION)
    return str(rows[0][0]) if rows else None


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
    seconds, _ = measured(args, store)
    complete = target.read_bytes()
    seen: Counter[str] = Counter()
    for _ in range(CRASHES):
        target.write_text(PREVIOUS)
        seen["killed" if killed_at_random(args, store, rng, seconds) else "finished"] += 1
        seen["mid-write (temporary file left)"] += any(tmp_path.glob(".scores.csv.*.partial"))
        now = target.read_bytes()
        assert now in (PREVIOUS.encode(), complete), (len(now), dict(seen))
        seen["previous" if now == PREVIOUS.encode() else "complete"] += 1
    assert growthlab(*args, store=store).returncode == 0  # removes dead runs' temporaries
    assert {p.name for p in tmp_path.iterdir()} == {"leads.csv", "scores.csv"}
    print(f"\nscore: {CRASHES} tries over {seconds:.1f} s: {dict(seen)}")


def test_kill_9_while_promoting_keeps_alias_and_history_in_agreement(two_versions: Path) -> None:
    store, rng = two_versions, random.Random(2)

    def promote(version: str) -> list[str]:
        return [
            *("command=promote", f"registry.version={version}", "registry.force=true"),
            *("registry.reason=crash", "registry.gate.resamples=100"),
        ]

    def other() -> str:  # the version that is not @champion: every promotion moves the alias
        return "2" if champion(store) == "1" else "1"

    seconds, held = measured(promote(other()), store, phase=lambda: locked(store))
    interrupted_keys: set[str] = set()  # pending records the kills left

    def recording_now() -> bool:  # a pending record this promotion wrote
        return bool(pending(store) - interrupted_keys)

    _, recording = measured(promote(other()), store, phase=recording_now)
    assert held > 0 and recording > 0, "the lock or the pending record was never seen"
    phases = (  # when the clock starts, and how long the window it draws from is
        (None, seconds),  # a moment of the whole run
        (lambda: locked(store), held),  # while the lock is held
        (recording_now, recording),  # between the pending and the done record
    )
    seen: Counter[str] = Counter()
    for i in range(CRASHES):
        after, longest = phases[i % len(phases)]
        killed = killed_at_random(promote(other()), store, rng, longest, after)
        seen["killed" if killed else "finished"] += 1
        left = pending(store) - interrupted_keys
        seen["left a pending record"] += bool(left)
        interrupted_keys |= left
        seen["left the lock"] += locked(store)
    done = growthlab("command=history", store=store)  # the next command
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    if seen["left a pending record"]:
        assert "interrupted" in done.stdout, done.stdout  # history says so, lock or no lock
    connect(store)
    # whichever version the kills left as champion, promote the other one: this closes
    # whatever the kills left pending
    after = [*promote(other())[:3], "registry.reason=after", "registry.gate.resamples=100"]
    handoff.promote(compose_config([*after, *store_overrides(store)]))
    records = registry.decisions(NAME)
    assert all(r["status"] in ("done", "interrupted") for r in records), records
    moved = [r for r in records if r["moved"]]
    assert registry.alias_version(NAME, registry.CHAMPION) == str(moved[-1]["version"])
    assert not registry.promotion_running(NAME)
    interrupted = [r for r in records if r["status"] == "interrupted"]
    assert {r["key"] for r in interrupted} == interrupted_keys, (records, dict(seen))
    seen["interrupted records (alias had moved)"] = sum(r["moved"] for r in interrupted)
    windows = f"run {seconds:.1f} s, lock {held:.2f} s, pending {recording:.2f} s"
    print(f"\npromote: {CRASHES} tries ({windows}): {dict(seen)}")


def test_kill_9_while_training_leaves_no_running_run(two_versions: Path) -> None:
    store, rng = two_versions, random.Random(3)
    seconds, _ = measured(TINY, store)
    seen: Counter[str] = Counter()
    for _ in range(CRASHES):
        runs = len(run_statuses(store))
        seen["killed" if killed_at_random(TINY, store, rng, seconds) else "finished"] += 1
        statuses = run_statuses(store)
        seen["after its run was created"] += len(statuses) > runs
        seen["left a RUNNING run"] += statuses.count("RUNNING") > 0
    done = growthlab(*TINY, store=store)  # the next command closes the orphans
    assert done.returncode == 0, done.stderr
    assert "RUNNING" not in run_statuses(store), dict(seen)
    connect(store)
    for alias in (registry.CHAMPION, registry.CHALLENGER):
        version = registry.alias_version(NAME, alias)
        if version is not None:
            assert registry.model_version(NAME, version=version).run_status == "FINISHED"
    print(f"\ntrain: {CRASHES} tries over {seconds:.1f} s: {dict(seen)}")


def trials(store: Path) -> tuple[set[int], set[int]]:
    """Numbers of the COMPLETE trials of the store's one study, and of its finished ones
    (complete or pruned): what tuner.n_trials counts towards."""
    storage = f"sqlite:///{store}/optuna.db"
    summaries = optuna.get_all_study_summaries(storage)
    assert len(summaries) <= 1, [s.study_name for s in summaries]  # resumed, never a new one
    if not summaries:
        return set(), set()
    study = optuna.load_study(study_name=summaries[0].study_name, storage=storage)
    done = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    return {t.number for t in done if t.state.name == "COMPLETE"}, {t.number for t in done}


def test_kill_9_while_tuning_loses_no_completed_trial(tmp_path: Path) -> None:
    store, rng = tmp_path / "mlruns", random.Random(4)
    # the unkilled run starts the study; each killed run resumes it with TRIALS more to do
    seconds, _ = measured([*TINY, *TUNE, f"tuner.n_trials={TRIALS}"], store)
    completed, finished = trials(store)
    seen: Counter[str] = Counter()
    for _ in range(CRASHES):
        args = [*TINY, *TUNE, f"tuner.n_trials={len(finished) + TRIALS}"]
        killed = killed_at_random(args, store, rng, seconds)
        now, finished_now = trials(store)
        assert completed <= now, f"completed trials {sorted(completed - now)} were lost"
        assert finished <= finished_now, f"pruned trials {sorted(finished - finished_now)} lost"
        seen["killed" if killed else "finished"] += 1
        if killed:
            seen["killed after some of its trials finished"] += finished_now > finished
            seen["trials finished by runs later killed"] += len(finished_now - finished)
        completed, finished = now, finished_now
    done = growthlab(*TINY, *TUNE, f"tuner.n_trials={len(finished) + 2}", store=store)
    assert done.returncode == 0, done.stderr
    assert "RUNNING" not in run_statuses(store)
    storage = f"sqlite:///{store}/optuna.db"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    ended = {t.number for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")}
    assert finished <= ended and len(ended) >= len(finished) + 2, dict(seen)
    assert not [t for t in study.trials if t.state.name == "RUNNING"]  # orphans were failed
    seen["completed trials, all kept"] = len(completed)
    seen["finished trials"] = len(ended)
    print(f"\ntune: {CRASHES} tries over {seconds:.1f} s: {dict(seen)}")
