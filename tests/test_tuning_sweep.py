"""tuner.sweep_first: every value of one small dimension is tried before the sampler explores."""

from __future__ import annotations

import optuna
import pytest

from growthlab.errors import UserError
from growthlab.search_space import Param
from growthlab.tuning import Tuner

SPACE = [Param("model.n_clusters", "int", 3, 6), Param("model.tol", "float", 1e-4, 1e-2)]


def _queued(tuner: Tuner) -> list[dict]:
    study = optuna.create_study()
    tuner.start_from(study, SPACE, {"model.n_clusters": 4, "model.tol": 1e-3})
    return [t.system_attrs["fixed_params"] for t in study.get_trials(deepcopy=False)]


def test_every_k_is_queued_after_the_config_with_its_other_values() -> None:
    queued = _queued(Tuner(sweep_first="model.n_clusters"))
    assert [q["model.n_clusters"] for q in queued] == [4, 3, 5, 6]
    assert all(q["model.tol"] == 1e-3 for q in queued)
    assert [q["model.n_clusters"] for q in _queued(Tuner())] == [4]


def test_a_sweep_key_outside_the_space_is_one_line() -> None:
    with pytest.raises(UserError, match="tuner.sweep_first='model.tol'") as error:
        _queued(Tuner(sweep_first="model.tol"))
    assert "\n" not in str(error.value) and "model.n_clusters" in str(error.value)
