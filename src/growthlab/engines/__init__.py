"""Engines: where data is read, features are built and models are trained.

The runner holds one engine (built from `conf/engine/*.yaml`) and asks it for every step that
touches data: load, fit, validate, evaluate, the input example and the holdout. The pandas
engine hands each step to the task as it always did; the Spark engine (engines/spark.py) does
the same steps on Spark DataFrames. Either way the registered model is the same raw-columns
pyfunc, so the gate, serving and pandas scoring never know which engine trained it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from growthlab import provenance
from growthlab.tasks import Evaluation, Prepared, Task

if TYPE_CHECKING:
    from growthlab.data.dataset import Dataset
    from growthlab.scoring import ScoringJob

log = logging.getLogger(__name__)

Report = Callable[[int, float], None]


class Engine(ABC):
    """Every step of a run that touches rows; the runner never asks which engine it holds."""

    name: str

    @abstractmethod
    def load(self, dataset: Dataset, task: Task) -> tuple[Any, int, str]:
        """The task's prepared splits, the number of input rows and a digest of the input."""

    @abstractmethod
    def fit(self, task: Task, model: Any, data: Any, report: Report | None = None) -> Any:
        """The model fitted on the training split (a raw-columns scikit-learn pipeline)."""

    @abstractmethod
    def validate(
        self, task: Task, new_model: Callable[[], Any], data: Any, report: Report | None = None
    ) -> dict[str, float]:
        """Validation metrics of a fresh model: one tuning trial."""

    @abstractmethod
    def evaluate(self, task: Task, model: Any, data: Any, splits: Sequence[str]) -> Evaluation:
        """Metrics per split (and what figures and tables the engine can afford)."""

    @abstractmethod
    def samples(self, data: Any) -> dict[str, pd.DataFrame]:
        """Rows of each split's features for the run's dataset records (schema, counts)."""

    def split_rows(self, data: Any) -> dict[str, int] | None:
        """Rows per split when samples() returns only each split's head (None: all of it)."""
        return None

    @abstractmethod
    def input_example(self, task: Task, data: Any) -> pd.DataFrame:
        """Rows of the model's input, for its signature and example."""

    @abstractmethod
    def holdout(self, task: Task, data: Any) -> pd.DataFrame:
        """The table kept with the model, which a promotion re-scores (pandas, on the driver)."""

    def score(self, job: ScoringJob) -> dict[str, float] | None:
        """Score a file in the engine's own way (None: batch scoring's pandas chunks do it)."""
        return None


class PandasEngine(Engine):
    """One machine: the table is read into pandas and every step is the task's own."""

    name = "pandas"

    def load(self, dataset: Dataset, task: Task) -> tuple[Prepared, int, str]:
        started = time.perf_counter()
        frame = dataset.load()
        # Each step's temporaries go back to the OS before the next one allocates: otherwise
        # glibc keeps them and the peak is their sum, not the largest. The digest is taken
        # before the splits exist, for the same reason.
        release_free_memory()
        rows, digest = len(frame), provenance.frame_digest(frame)
        release_free_memory()
        data = task.prepare(frame, dataset.columns)
        del frame
        release_free_memory()
        log.info("loaded %s: %d rows in %.1fs", dataset.name, rows, time.perf_counter() - started)
        return data, rows, digest

    def fit(self, task: Task, model: Any, data: Prepared, report: Report | None = None) -> Any:
        return task.fit(model, data, report)

    def validate(
        self,
        task: Task,
        new_model: Callable[[], Any],
        data: Prepared,
        report: Report | None = None,
    ) -> dict[str, float]:
        return task.validate(new_model, data, report)

    def evaluate(self, task: Task, model: Any, data: Prepared, splits: Sequence[str]) -> Evaluation:
        return task.evaluate(model, data, tuple(splits))

    def samples(self, data: Prepared) -> dict[str, pd.DataFrame]:
        return {name: part.X for name, part in data.parts.items()}

    def input_example(self, task: Task, data: Prepared) -> pd.DataFrame:
        return task.input_example(data)

    def holdout(self, task: Task, data: Prepared) -> pd.DataFrame:
        return task.holdout(data)


def release_free_memory() -> None:
    """Hand memory freed by loading back to the OS (glibc keeps it for reuse otherwise: about
    the size of the simulated table again, held through training)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
