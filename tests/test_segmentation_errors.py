"""Segmentation mistakes end with one line through the CLI, exit 2 and no RUNNING run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.test_errors import growthlab, one_line_error, run_statuses

PROFILES = ["experiments=segmentation_kmeans", "tuner=none", "dataset.n_customers=300"]

CASES = {
    "min share impossible": (["task.min_segment_share=0.6"], "task.min_segment_share"),
    "k segments cannot hold the min share": (
        ["model.n_clusters=10", "task.min_segment_share=0.15"],
        "lower model.n_clusters",
    ),
    "too few customers for k": (
        ["dataset.n_customers=60", "model.n_clusters=20", "task.min_segment_share=0.01"],
        "training customers for 20 segments",
    ),
    "unknown objective": (["task.objective=inertia"], "task.objective"),
    "rfm rules without rfm columns": (["model=rfm_rules"], "task.recency_column"),
}


@pytest.mark.parametrize("case", CASES)
def test_mistake_gives_one_line_and_exit_2(case: str, store: Path) -> None:
    args, hint = CASES[case]
    done = growthlab(*PROFILES, *args, store=store)
    assert hint in one_line_error(done)
    assert done.returncode == 2
    assert "RUNNING" not in run_statuses(store)


def test_table_without_features(tmp_path: Path, store: Path) -> None:
    path = tmp_path / "ids.csv"
    pd.DataFrame({"customer_id": range(100)}).to_csv(path, index=False)
    done = growthlab(
        "experiments=segmentation_kmeans",
        "tuner=none",
        "dataset=file",
        f"dataset.path={path}",
        "dataset.name=ids",
        "dataset.columns.target=null",
        "dataset.columns.id=customer_id",
        store=store,
    )
    assert "no feature columns" in one_line_error(done)
    assert done.returncode == 2
    assert "RUNNING" not in run_statuses(store)
