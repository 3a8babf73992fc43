"""A served model outlives the task classes that trained it, and an old layout says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from growthlab.errors import UserError
from growthlab.runner import RunResult, run
from growthlab.tasks.lead_scoring import LeadScoring
from growthlab.tracking import FramePredictor
from tests.conftest import compose_config, store_overrides

FAST = ["dataset.n_rows=2000", "model=logistic_regression", "task.importance_rows=100"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    store = tmp_path_factory.mktemp("mlruns")
    cfg = compose_config([*FAST, "registry.register=false", *store_overrides(store)])
    return run(cfg), store


def test_a_model_scores_without_any_task_module(
    trained: tuple[RunResult, Path], tmp_path: Path
) -> None:
    """Loaded where `growthlab.tasks` cannot be imported at all (as after a task class is
    renamed, moved or deleted), the registered model still loads and scores the same."""
    result, store = trained
    rows = tmp_path / "rows.parquet"
    result.data.parts["test"].X.head(50).to_parquet(rows)
    script = (
        "import sys, mlflow, pandas as pd\n"
        "sys.modules['growthlab.tasks'] = None  # any import of a task module now fails\n"
        f"model = mlflow.pyfunc.load_model({result.model_uri!r})\n"
        f"out = model.predict(pd.read_parquet({str(rows)!r}))\n"
        "print(round(float(out['score'].sum()), 8))\n"
    )
    uri = f"sqlite:///{store}/mlflow.db"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    expected = result.model.predict_proba(result.data.parts["test"].X.head(50))[:, 1].sum()
    assert float(done.stdout.strip().splitlines()[-1]) == pytest.approx(expected, rel=1e-6)


def test_a_model_of_the_old_layout_says_how_to_re_register_it(tmp_path: Path) -> None:
    """Before 0.2 the pyfunc pickled the whole task: loading one names the fix in one line."""
    legacy = FramePredictor.__new__(FramePredictor)
    legacy.__dict__.update(task=LeadScoring(), estimator=None)  # the old layout's state
    path = tmp_path / "legacy_model"
    mlflow.pyfunc.save_model(str(path), python_model=legacy, pip_requirements=["mlflow"])
    with pytest.raises(UserError, match="re-register it by training again"):
        mlflow.pyfunc.load_model(str(path))
