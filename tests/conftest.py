"""Shared test helpers: compose the project's config, and a throwaway MLflow store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

import growthlab.cli  # noqa: F401 - registers the growthlab_root resolver
from growthlab.paths import CONF_DIR, ROOT

SHARED_DATA = ROOT.parent / "shared" / "data"
# Lead scoring small and quick: a few seconds a run on CI's two cores, one thread (two OpenMP
# threads on a busy 2-core machine wait on each other).
FAST = [
    "dataset.n_rows=4000",
    "model.n_estimators=30",
    "task.importance_rows=300",
    "model.n_jobs=1",
]

# scikit-learn's API-contract checks that need no fit on NumPy arrays. parametrize_with_checks
# is not used for our estimators: nearly every generic check fits on arrays, and they read named
# raw columns of a DataFrame (FrameEncoder refuses anything else), so ~30 checks would fail.
API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
]


def compose_config(overrides: list[str] | None = None) -> DictConfig:
    """The config `python -m growthlab <overrides>` would run with."""
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides or []))


def store_overrides(store: Path) -> list[str]:
    """Overrides that send a run to a private SQLite store under `store`."""
    return [f"store={store}"]


def score_file(store: Path, source: Path, target: Path, *overrides: str) -> None:
    """`make score` in-process: the registered model of `overrides` scores source into target."""
    from growthlab import handoff

    files = [f"registry.scoring.input={source}", f"registry.scoring.output={target}"]
    handoff.score(compose_config(["command=score", *files, *overrides, *store_overrides(store)]))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh, empty MLflow store for one test."""
    path = tmp_path / "mlruns"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store shared by a module's tests (a model trained once, then promoted, scored...)."""
    return tmp_path_factory.mktemp("mlruns")


# --- the command line, as a user runs it ------------------------------------------------------


def growthlab(*args: str, store: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m growthlab <args>` on a private store, as a user runs it (no debug traceback)."""
    return subprocess.run(
        [sys.executable, "-m", "growthlab", *args, *store_overrides(store)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "GROWTHLAB_DEBUG": ""},
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("growthlab: error:")]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return errors[0]


def run_statuses(store: Path) -> list[str]:
    db = store / "mlflow.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as con:
            return [row[0] for row in con.execute("select status from runs")]
    except sqlite3.OperationalError:  # the store is still being created
        return []


# --- engine=spark -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local SparkSession per test module (one starts in ~10 s), stopped after it."""
    from growthlab.spark import session

    active = session("local[2]", "growthlab-tests", SPARK_TEST_CONF)
    yield active
    active.stop()


SPARK_TEST_CONF = {
    "spark.sql.shuffle.partitions": 2,
    "spark.ui.enabled": "false",
    "spark.driver.memory": "1g",
}


def assert_same_cells(got: pd.DataFrame, expected: pd.DataFrame, keys: Sequence[str]) -> None:
    """A Spark table equals the pandas one cell by cell, rows in the same order: the same
    columns, keys exact, counts exact (and still integers), amounts within 1e-9."""
    assert list(got.columns) == list(expected.columns)
    for column in keys:
        assert (got[column].to_numpy() == expected[column].to_numpy()).all(), column
    for column in [c for c in expected.columns if c not in keys]:
        if pd.api.types.is_integer_dtype(expected[column]):  # counts and labels: exact
            assert pd.api.types.is_integer_dtype(got[column]), column
            assert (got[column].to_numpy() == expected[column].to_numpy()).all(), column
        else:  # amounts, days, shares: summed in another order
            np.testing.assert_allclose(got[column], expected[column], rtol=0, atol=1e-9)
