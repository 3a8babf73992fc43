"""Promotion under concurrency and crashes: one lock per model, a decision pending while the
alias moves, two promotions at once: one wins and the other is told why."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

from growthlab import handoff, registry
from growthlab.paths import ROOT
from growthlab.runner import run
from tests.conftest import compose_config, store_overrides

NAME = "lead_scoring-simulated_leads"
SMALL = ["dataset.n_rows=1500", "model=logistic_regression", "task.importance_rows=100"]
GATE = ["registry.gate.resamples=100"]


def connect(store: Path) -> None:
    uri = f"sqlite:///{store}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


@pytest.fixture(scope="module")
def two_versions(module_store: Path) -> Path:
    """Two registered versions of one model, no champion yet."""
    for seed in (0, 1):
        run(compose_config([*SMALL, f"seed={seed}", *store_overrides(module_store)]))
    return module_store


def promote_process(store: Path, version: str) -> subprocess.Popen[str]:
    args = ["command=promote", f"registry.version={version}", "registry.force=true"]
    return subprocess.Popen(
        [sys.executable, "-m", "growthlab", *args, "registry.reason=race", *SMALL, *GATE]
        + store_overrides(store),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GROWTHLAB_DEBUG": "", "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow  # two promotion processes, each importing MLflow and judging the holdout
def test_two_promotions_at_once_one_wins_the_other_is_told_why(two_versions: Path) -> None:
    """Both judge against no champion while the test holds the lock; released, one moves the
    alias and the other, re-checking under the lock, refuses in one line."""
    store = two_versions
    connect(store)
    with registry.promotion_lock(NAME):
        racers = [promote_process(store, v) for v in ("1", "2")]
        seen = ["", ""]
        deadline = time.monotonic() + 240
        while not all("waiting for another promotion" in s for s in seen):
            assert time.monotonic() < deadline, seen
            assert all(p.poll() is None for p in racers), [p.communicate() for p in racers]
            for i, p in enumerate(racers):
                if "waiting" not in seen[i]:
                    seen[i] += p.stdout.readline()  # type: ignore[union-attr]
    done = [p.communicate(timeout=240) for p in racers]
    codes = sorted(p.returncode for p in racers)
    assert codes == [0, 2], done
    loser = done[[p.returncode for p in racers].index(2)][1]
    errors = [line for line in loser.splitlines() if line.startswith("growthlab: error:")]
    assert len(errors) == 1 and "moved to v" in errors[0] and "Traceback" not in loser, loser
    connect(store)
    winner = "1" if racers[0].returncode == 0 else "2"
    assert registry.alias_version(NAME, registry.CHAMPION) == winner
    records = registry.decisions(NAME)
    assert [(r["version"], r["status"], r["moved"]) for r in records] == [(winner, "done", True)]
    assert registry.promotion_running(NAME) is False  # the lock is gone


def test_an_interrupted_promotion_shows_in_history(
    two_versions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A promotion killed between its pending record and the alias move: history says
    interrupted, and the next promotion closes the record before it writes its own."""
    store = two_versions
    connect(store)
    champion = registry.alias_version(NAME, registry.CHAMPION)
    other = "2" if champion == "1" else "1"
    killed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, mlflow, sys\n"
            f"mlflow.set_tracking_uri('sqlite:///{store}/mlflow.db')\n"
            f"mlflow.set_registry_uri('sqlite:///{store}/mlflow.db')\n"
            "from growthlab import registry\n"
            f"with registry.promotion_lock({NAME!r}):\n"
            f"    registry.record_decision({NAME!r}, {{'time': 't', 'version': {other!r},"
            f" 'previous_champion': {champion!r}, 'verdict': 'pass', 'forced': False,"
            " 'reason': '', 'moved': True, 'status': 'pending'})\n"
            "    os.kill(os.getpid(), 9)\n",
        ],
        cwd=ROOT,
    )
    assert killed.wait(timeout=120) == -9
    connect(store)
    handoff.history(compose_config(["command=history", *SMALL, *store_overrides(store)]))
    lines = capsys.readouterr().out.splitlines()
    assert "interrupted" in lines[-1] and f"v{other}" in lines[-1], lines
    assert registry.alias_version(NAME, registry.CHAMPION) == champion  # it never moved
    handoff.promote(
        compose_config(
            ["command=promote", f"registry.version={other}", "registry.force=true"]
            + ["registry.reason=after the crash", *SMALL, *GATE, *store_overrides(store)]
        )
    )
    connect(store)
    statuses = [(r["version"], r["status"]) for r in registry.decisions(NAME)]
    assert statuses[-2:] == [(other, "interrupted"), (other, "done")], statuses
    assert registry.alias_version(NAME, registry.CHAMPION) == other
