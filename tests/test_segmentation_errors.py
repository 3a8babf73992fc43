"""Segmentation mistakes end with one line through the CLI, exit 2 and no RUNNING run.

Every case is checked in-process (fast: the same UserError the CLI prints) and through the
CLI; the CLI runs of all but two cases are marked slow (each spawns a Python with MLflow).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from growthlab.errors import UserError
from growthlab.runner import run
from tests.conftest import compose_config, growthlab, one_line_error, run_statuses, store_overrides

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
    "one segment": (["model.n_clusters=1"], "2 or more"),
    "unknown objective": (["task.objective=inertia"], "task.objective"),
    "k outside the business range": (["model.n_clusters=9"], "outside task.min_segments"),
    "business range upside down": (
        ["task.min_segments=6", "task.max_segments=4"],
        "2 <= min_segments <= max_segments",
    ),
    "stability floor not an ARI": (["task.min_stability=2"], "task.min_stability"),
    "rfm rules without rfm columns": (["model=rfm_rules"], "task.recency_column"),
}
ON_THE_CLI = ("min share impossible", "too few customers for k")  # before data / inside a run


def ids_only(tmp_path: Path) -> list[str]:
    path = tmp_path / "ids.csv"
    pd.DataFrame({"customer_id": range(100)}).to_csv(path, index=False)
    return [
        "experiments=segmentation_kmeans",
        "tuner=none",
        "dataset=file",
        f"dataset.path={path}",
        "dataset.name=ids",
        "dataset.columns.target=null",
        "dataset.columns.id=customer_id",
    ]


@pytest.mark.parametrize("case", CASES)
def test_mistake_is_a_user_error_naming_the_fix(case: str, store: Path) -> None:
    args, hint = CASES[case]
    with pytest.raises(UserError) as error:
        run(compose_config([*PROFILES, *args, *store_overrides(store)]))
    assert hint in str(error.value) and "\n" not in str(error.value)
    assert "RUNNING" not in run_statuses(store)


def test_table_without_features_is_a_user_error(tmp_path: Path, store: Path) -> None:
    with pytest.raises(UserError, match="no feature columns"):
        run(compose_config([*ids_only(tmp_path), *store_overrides(store)]))


@pytest.mark.parametrize(
    "case", [c if c in ON_THE_CLI else pytest.param(c, marks=pytest.mark.slow) for c in CASES]
)
def test_mistake_gives_one_line_and_exit_2_on_the_cli(case: str, store: Path) -> None:
    args, hint = CASES[case]
    done = growthlab(*PROFILES, *args, store=store)
    assert hint in one_line_error(done)
    assert done.returncode == 2
    assert "RUNNING" not in run_statuses(store)


@pytest.mark.slow
def test_table_without_features_on_the_cli(tmp_path: Path, store: Path) -> None:
    done = growthlab(*ids_only(tmp_path), store=store)
    assert "no feature columns" in one_line_error(done)
    assert done.returncode == 2
    assert "RUNNING" not in run_statuses(store)
