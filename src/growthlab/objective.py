"""The tuning objective: one trial is the plain run's fit and validation, with the trial's params.

The runner builds it; tuning.py only calls it, and never reaches back into the runner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from growthlab.engines import Engine, PandasEngine
from growthlab.models.spec import ModelSpec, estimator_errors
from growthlab.tasks import Prepared, Task


@dataclass
class Objective:
    """Validation metrics (`valid_<name>`) of a model built with a trial's params."""

    task: Task
    data: Prepared
    models: ModelSpec
    engine: Engine = field(default_factory=PandasEngine)

    def __call__(
        self, params: Mapping[str, Any], report: Callable[[int, float], None]
    ) -> dict[str, float]:
        with estimator_errors():
            metrics = self.engine.validate(
                self.task, lambda: self.models.build(params), self.data, report
            )
        return {f"valid_{k}": v for k, v in metrics.items()}
