"""A consumer's `mlflow.pyfunc.load_model(uri).predict(pd.read_csv(f))`, as the README says,
for every task's registered model: on a file whose count columns have no blanks (int64 in
pandas) and on one with blanks in them (float64)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from growthlab import handoff, registry
from growthlab.runner import run
from tests.conftest import compose_config, store_overrides
from tests.test_task_contract import TASKS, TINY

pytestmark = pytest.mark.slow  # one training per task


def integral(frame: pd.DataFrame) -> list[str]:
    """Real-valued columns whose values are all whole numbers: counts, written as integers."""
    return [
        c
        for c in frame.columns
        if frame[c].dtype.kind == "f"
        and frame[c].notna().all()
        and np.array_equal(frame[c], np.round(frame[c]))
    ]


@pytest.mark.parametrize("name", TASKS)
def test_load_model_predicts_a_csv_like_the_training_data(
    name: str, module_store: Path, tmp_path: Path
) -> None:
    cfg = compose_config([f"task={name}", *TINY[name], *store_overrides(module_store)])
    result = run(cfg)
    model_name = str(cfg.registry.model_name)
    model = mlflow.pyfunc.load_model(f"models:/{model_name}@challenger")
    task = handoff.task_of(result.run_id)
    X, _ = task.outcomes(
        registry.download_frame(result.run_id, registry.HOLDOUT), result.data.schema
    )
    counts = integral(X)
    whole = X.astype({c: "int64" for c in counts})
    plain, blanks = tmp_path / "plain.csv", tmp_path / "blanks.csv"
    whole.to_csv(plain, index=False)
    holed = whole.astype({c: "float64" for c in counts})
    for column in counts:
        holed.loc[holed.index[::7], column] = np.nan
    holed.to_csv(blanks, index=False)

    read = pd.read_csv(plain)
    assert all(read[c].dtype == "int64" for c in counts), read.dtypes
    answer = model.predict(read)
    assert task.output_column in answer and len(answer) > 0
    expected = model.predict(X)[task.output_column].to_numpy()
    np.testing.assert_allclose(
        pd.to_numeric(answer[task.output_column]).to_numpy(dtype=float),
        pd.to_numeric(pd.Series(expected)).to_numpy(dtype=float),
        rtol=1e-6,
    ) if answer[task.output_column].dtype.kind in "fi" else None
    with_blanks = model.predict(pd.read_csv(blanks))
    assert task.output_column in with_blanks and len(with_blanks) > 0
