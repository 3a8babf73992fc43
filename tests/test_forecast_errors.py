"""Bad forecast input ends with one readable line on the CLI, exit 2 and no RUNNING run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growthlab.errors import UserError
from growthlab.runner import run
from tests.conftest import compose_config, growthlab, one_line_error, run_statuses, store_overrides

SIM = [
    "experiments=forecast_global_xgboost",
    "dataset.n_regions=1",
    "dataset.days=200",
    "tuner=none",
]
CASES = {
    "series column missing": (["dataset.columns.series=[shop]"], "column 'shop' declared"),
    "no series declared": (["dataset.columns.series=[]"], "dataset.columns.series"),
    "no time declared": (["dataset.columns.time=null"], "dataset.columns.time"),
    "too short a history": (["dataset.days=60"], "too short"),
    "unknown frequency": (["task.frequency=Q"], "task.frequency='Q' is unknown"),
    "bad refit policy": (["task.backtest.refit=sometimes"], "use once or every"),
    "bad strategy": (["model.strategy=sideways", "task.horizon=7"], "model.strategy"),
    "bad final refit": (["task.final_refit=sometimes"], "use all or backtest"),
    "blend weight above one": (["model.baseline_weight=1.5"], "model.baseline_weight"),
    "unknown loss": (["model.loss=cubic", "task.horizon=7"], "model.loss='cubic'"),
    "unknown level": (["model.level=mode", "task.horizon=7"], "model.level='mode'"),
}


@pytest.mark.parametrize("case", CASES)
def test_simulated_panel_mistakes_raise_a_user_error(case: str, tmp_path: Path) -> None:
    args, hint = CASES[case]
    with pytest.raises(UserError) as raised:
        run(compose_config([*SIM, *args, *store_overrides(tmp_path)]))
    assert hint in str(raised.value) and "\n" not in str(raised.value)
    assert "RUNNING" not in run_statuses(tmp_path)


@pytest.mark.slow  # the CLI costs ~10 s a case here; tests/test_forecast.py keeps one fast
@pytest.mark.parametrize("case", CASES)
def test_simulated_panel_mistakes_give_one_line(case: str, tmp_path: Path) -> None:
    args, hint = CASES[case]
    done = growthlab(*SIM, *args, store=tmp_path)
    assert done.returncode == 2
    assert hint in one_line_error(done)
    assert "RUNNING" not in run_statuses(tmp_path)


def panel_file(tmp_path: Path, every_days: int = 1, drop: str | None = None) -> Path:
    days = pd.date_range("2024-01-01", periods=200, freq=f"{every_days}D")
    frame = pd.DataFrame(
        {
            "shop": np.repeat(["a", "b"], len(days)),
            "day": np.tile(days, 2),
            "sales": np.arange(2 * len(days), dtype=float) % 7 + 10,
        }
    )
    path = tmp_path / "panel.csv"
    frame.drop(columns=[drop] if drop else []).to_csv(path, index=False)
    return path


def file_args(path: Path) -> list[str]:
    return [
        "dataset=file",
        f"dataset.path={path}",
        "++dataset.columns.series=[shop]",
        "dataset.columns.time=day",
        "dataset.columns.target=sales",
        "task=forecast",
        "model=global_xgboost",
        "task.horizon=7",
        "model.n_estimators=5",
    ]


def test_dates_of_no_known_frequency_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="declare task.frequency"):
        run(compose_config([*file_args(panel_file(tmp_path, every_days=3)),
                            *store_overrides(tmp_path)]))  # fmt: skip


@pytest.mark.slow
def test_dates_of_no_known_frequency_on_the_cli(tmp_path: Path) -> None:
    done = growthlab(*file_args(panel_file(tmp_path, every_days=3)), store=tmp_path)
    assert "declare task.frequency" in one_line_error(done)
    assert "RUNNING" not in run_statuses(tmp_path)


@pytest.mark.slow
def test_missing_target_column_in_a_file(tmp_path: Path) -> None:
    done = growthlab(*file_args(panel_file(tmp_path, drop="sales")), store=tmp_path)
    assert "column 'sales' declared in dataset.columns" in one_line_error(done)
