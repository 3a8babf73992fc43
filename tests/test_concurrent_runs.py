"""Two processes starting at once on one fresh store both succeed: the store is created
under a lock (store_lock), and SQLite waits for the other writer (busy_timeout)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from growthlab.paths import ROOT

from .conftest import run_statuses, store_overrides

TINY = ["dataset.n_rows=2000", "model=logistic_regression"]

CONNECT = """
import sys
from growthlab.tracking import Tracker

# connect() creates a fresh store under store_lock
Tracker(f"sqlite:///{sys.argv[1]}/mlflow.db", f"{sys.argv[1]}/artifacts", "leads").connect()
"""


def _together(commands: list[list[str]]) -> list[str]:
    """Start every command at once; their stderr when any fails."""
    env = {**os.environ, "GROWTHLAB_DEBUG": ""}
    runs = [
        subprocess.Popen(c, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) for c in commands
    ]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    return [] if all(run.returncode == 0 for run in runs) else errors


def test_the_store_lock_lets_two_processes_create_one_store(store: Path) -> None:
    command = [sys.executable, "-c", textwrap.dedent(CONNECT), str(store)]
    assert _together([command] * 3) == []


def test_two_runs_started_at_once_on_a_fresh_store_both_finish(store: Path) -> None:
    command = [sys.executable, "-m", "growthlab", *TINY, *store_overrides(store)]
    assert _together([command] * 2) == []
    assert run_statuses(store) == ["FINISHED", "FINISHED"]
