"""A study carries a fingerprint (data digest, search space, task, metric): a study of other
data is not resumed, a new study name is derived (workers join it), tuner.resume=force
resumes the old one."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from omegaconf import OmegaConf

from growthlab.runner import run
from growthlab.worker import work
from tests.conftest import compose_config, store_overrides

BASE = "lead_scoring-simulated_leads-sklearn.linear_model.LogisticRegression"
FAST = [
    "tuner=random",
    "tuner.n_trials=2",
    "tuner.progress=false",
    "model=logistic_regression",
    "task.importance_rows=100",
]


def studies(store: Path) -> dict[str, int]:
    """Study name -> trials, in the store's Optuna storage."""
    storage = f"sqlite:///{store}/optuna.db"
    return {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)}


def tune(store: Path, rows: int, *overrides: str) -> None:
    run(compose_config([*FAST, f"dataset.n_rows={rows}", *overrides, *store_overrides(store)]))


def test_other_data_is_not_resumed_a_derived_study_is(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tune(store, 1500)
    assert studies(store) == {BASE: 2}
    capsys.readouterr()
    tune(store, 1600, "tuner.n_trials=3")  # new data, raised budget: not the old study
    told = capsys.readouterr().out
    assert "not resuming it" in told and "tuner.resume=force" in told, told
    after = studies(store)
    derived = [name for name in after if name != BASE]
    assert after[BASE] == 2 and len(derived) == 1 and after[derived[0]] == 3, after
    tune(store, 1600, "tuner.n_trials=3")  # the same data again: the derived study resumes
    assert studies(store) == after
    # A worker with that config joins the derived study, not the old one.
    cfg = compose_config(
        [*FAST, "dataset.n_rows=1600", "tuner.n_trials=4", *store_overrides(store)]
    )
    work(OmegaConf.create(OmegaConf.to_yaml(cfg, resolve=True)))
    assert studies(store) == {BASE: 2, derived[0]: 4}
    tune(store, 1700, "tuner.n_trials=3", "tuner.resume=force")  # resumes the old one anyway
    assert studies(store) == {BASE: 3, derived[0]: 4}


def test_a_bad_resume_value_is_one_line() -> None:
    from growthlab.build import build
    from growthlab.errors import UserError

    with pytest.raises(UserError, match="tuner.resume"):
        build(compose_config(["tuner=tpe", "tuner.resume=maybe"]).tuner, "tuner")
