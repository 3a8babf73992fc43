"""Bad input ends with one readable line, a non-zero exit and no MLflow run left RUNNING."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from growthlab.paths import ROOT
from tests.conftest import growthlab, one_line_error, run_statuses, store_overrides


def leads_csv(tmp_path: Path, **changes: object) -> Path:
    frame = pd.DataFrame(
        {
            "lead_id": range(200),
            "channel": ["email", "paid_search", "events", "direct"] * 50,
            "pages": [i % 7 for i in range(200)],
            "converted": [1 if i % 5 == 0 else 0 for i in range(200)],
        }
    )
    for column, value in changes.items():
        frame[column] = value
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    return path


def file_args(path: Path, *extra: str) -> list[str]:
    return [
        "dataset=file",
        f"dataset.path={path}",
        "dataset.columns.target=converted",
        "dataset.columns.id=lead_id",
        "model.n_estimators=5",
        *extra,
    ]


CASES = {
    "typo in a config key": (["model.max_dept=4"], "model.max_depth"),
    "unknown model": (["model=random_forrest"], "xgboost"),
    "unknown dataset option": (["dataset=crm_exprt"], "simulated_leads"),
    "unknown column role": (["+dataset.columns.targt=x"], "valid roles"),
    "too few rows": (["dataset.n_rows=10"], "n_rows"),
    "bad split sizes": (["task.test_size=0.9"], "test_size"),
    "target _target_ outside the allow-list": (["model._target_=os.system"], "not allowed"),
}


@pytest.mark.parametrize("case", CASES)
def test_config_mistakes_give_one_line(case: str, store: Path) -> None:
    args, hint = CASES[case]
    line = one_line_error(growthlab(*args, store=store))
    assert hint in line
    assert "RUNNING" not in run_statuses(store)


def test_missing_file(tmp_path: Path, store: Path) -> None:
    line = one_line_error(growthlab(*file_args(tmp_path / "nope.csv"), store=store))
    assert "does not exist" in line and "dataset.path" in line


def test_file_without_a_target_names_the_role_to_set(tmp_path: Path, store: Path) -> None:
    args = [a for a in file_args(leads_csv(tmp_path)) if not a.startswith("dataset.columns.target")]
    line = one_line_error(growthlab(*args, store=store))
    assert "needs a label" in line and "dataset.columns.target" in line
    assert "RUNNING" not in run_statuses(store)


def test_missing_column(tmp_path: Path, store: Path) -> None:
    args = file_args(leads_csv(tmp_path), "dataset.columns.time=signup_date")
    assert "'signup_date'" in one_line_error(growthlab(*args, store=store))


def test_non_binary_target(tmp_path: Path, store: Path) -> None:
    path = leads_csv(tmp_path, converted=[i % 3 for i in range(200)])
    assert "not 0/1" in one_line_error(growthlab(*file_args(path), store=store))


def test_string_target_names_the_positive_label_fix(tmp_path: Path, store: Path) -> None:
    path = leads_csv(tmp_path, converted=["yes" if i % 5 == 0 else "no" for i in range(200)])
    line = one_line_error(growthlab(*file_args(path), store=store))
    assert "dataset.columns.positive_label" in line
    done = growthlab(*file_args(path, "dataset.columns.positive_label=yes"), store=store)
    assert done.returncode == 0, done.stderr


def test_empty_data(tmp_path: Path, store: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("lead_id,channel,converted\n")
    assert "no rows" in one_line_error(growthlab(*file_args(path), store=store))


def test_one_class_data(tmp_path: Path, store: Path) -> None:
    path = leads_csv(tmp_path, converted=0)
    assert "only one class" in one_line_error(growthlab(*file_args(path), store=store))


def test_fit_failure_marks_the_run_failed(tmp_path: Path, store: Path) -> None:
    line = one_line_error(
        growthlab(*file_args(leads_csv(tmp_path), "model.max_depth=-3"), store=store)
    )
    assert "model" in line
    assert run_statuses(store) == ["FAILED"]


def long_run_args(store: Path) -> list[str]:
    """A run that takes long enough to be killed while it trains."""
    return [
        sys.executable,
        "-m",
        "growthlab",
        "dataset.n_rows=300000",
        "model.n_estimators=3000",
        *store_overrides(store),
    ]


def wait_until_running(store: Path) -> None:
    deadline = time.time() + 120
    while "RUNNING" not in run_statuses(store) and time.time() < deadline:
        time.sleep(0.5)


def test_killed_process_leaves_no_running_run(store: Path) -> None:
    args = long_run_args(store)
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_until_running(store)
    assert "RUNNING" in run_statuses(store)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert run_statuses(store) == ["KILLED"]
    assert stderr.strip().splitlines()[-1].startswith("growthlab: error: interrupted")


# SIGTERM arrives while XGBoost's C code is calling back into Python for the next batch.
SIGTERM_INSIDE_XGBOOST_CALLBACK = """
import os, signal, time
import numpy as np, xgboost
from growthlab.processes import interrupt

signal.signal(signal.SIGTERM, interrupt)


class Batches(xgboost.DataIter):
    def __init__(self):
        self.batch = 0
        super().__init__()

    def next(self, input_data):
        if self.batch == 3:
            return 0
        if self.batch == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        self.batch += 1
        input_data(data=np.random.rand(50, 3), label=np.random.rand(50))
        return 1

    def reset(self):
        self.batch = 0


try:
    matrix = xgboost.QuantileDMatrix(Batches())
    print("built", matrix.num_row(), flush=True)
    time.sleep(30)
except KeyboardInterrupt:
    print("interrupted")
"""


def test_sigterm_inside_an_xgboost_callback_waits_until_python_is_back() -> None:
    # Raising inside the callback made XGBoost loop forever or abort (munmap_chunk).
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_INSIDE_XGBOOST_CALLBACK],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["built", "150", "interrupted"]
    assert "Exception ignored" not in done.stderr


def test_run_orphaned_by_kill_9_is_closed_by_the_next_run(tmp_path: Path, store: Path) -> None:
    args = long_run_args(store)
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_running(store)
    proc.kill()
    proc.wait()
    assert run_statuses(store) == ["RUNNING"]
    done = growthlab(*file_args(leads_csv(tmp_path)), store=store)
    assert done.returncode == 0, done.stderr
    # The orphan lives in the simulated-leads experiment; the next run there closes it.
    done = growthlab("dataset.n_rows=2000", "model.n_estimators=5", store=store)
    assert done.returncode == 0, done.stderr
    assert sorted(run_statuses(store)) == ["FINISHED", "FINISHED", "KILLED"]
