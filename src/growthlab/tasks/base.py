"""The task contract: what every business question fills in, and the defaults most share.

A task is built from config (`Churn(horizon_days=90)`), holds only its settings and is never
changed by the data: `prepare` returns what it learned inside `Prepared.schema`, which the
served model keeps (with the fitted pipeline and the name of its output adapter in
growthlab.outputs) instead of the task. The runner, the tuning objective, the gate and batch
scoring type against `Task` and never ask which task they hold.

Filling in a new task (a module in tasks/ and a YAML file in conf/task/):
- the abstract methods below: prepare, fit, validate, evaluate, metric_names, metrics_of;
- the class attributes: name, objective, output (an adapter name), output_column, and
  where the defaults do not fit minimized, floors, headline, score_column, binary_labels,
  whole_input, predict_params, scores_logs, recorded_gate;
- where the defaults do not fit: input_example, holdout, outcomes, metric_function,
  baseline_scores (or baselines), gate_metrics, bootstrap_groups, table_from_log.
tests/test_task_contract.py runs every conf/task/*.yaml through the whole interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from growthlab import outputs
from growthlab.data.dataset import Columns
from growthlab.errors import UserError
from growthlab.tasks import (
    Evaluation,
    Part,
    Prepared,
    SparkPrepared,
    part_from_frame,
    part_to_frame,
)

Report = Callable[[int, float], None]  # (step, validation value, higher is better)
Metric = Callable[[np.ndarray, np.ndarray], float]
# engine=spark: a Spark DataFrame in, the engine's seeded sample of its rows out (pandas).
Sampler = Callable[[Any], pd.DataFrame]


class Task(ABC):
    """One business question: split the data, train, judge, and say what a model returns."""

    name: str
    objective: str  # the metric tuning optimises and the gate compares, unless config says
    output: ClassVar[str]  # the adapter in growthlab.outputs the served model answers with
    output_column: ClassVar[str]  # the adapter's column the gate judges
    minimized: tuple[str, ...] = ()  # metrics where lower is better
    floors: Mapping[str, float] = {}  # the gate's default minimums (registry.gate.floors)
    headline: tuple[str, ...] = ()  # test metrics printed at the end of a run
    score_column: ClassVar[str | None] = None  # numeric output batch scoring cuts in deciles
    binary_labels: ClassVar[bool] = False  # y is 0/1 (bootstraps redraw one-class samples)
    whole_input: ClassVar[bool] = False  # batch scoring reads the file whole (series)
    scores_logs: ClassVar[bool] = False  # can build its input from an event log at a cutoff
    predict_params: Mapping[str, Any] | None = None  # keyword options of the served model
    # True: the model handed on has seen the holdout (a forecaster refitted on all history),
    # so the gate judges the test metrics recorded at training instead of re-scoring it.
    recorded_gate: bool = False

    # --- what every task must say -------------------------------------------------------------

    @abstractmethod
    def prepare(self, frame: pd.DataFrame, columns: Columns) -> Prepared:
        """Check the data, split it; return the splits, what to log and what was learned."""

    @abstractmethod
    def fit(self, model: Any, data: Prepared, report: Report | None = None) -> Any:
        """Train on the training split (report: the validation curve, for pruning)."""

    @abstractmethod
    def validate(
        self, new_model: Callable[[], Any], data: Prepared, report: Report | None = None
    ) -> dict[str, float]:
        """Validation metrics of a fresh model: one tuning trial (never touches the test)."""

    @abstractmethod
    def evaluate(self, model: Any, data: Prepared, splits: Sequence[str]) -> Evaluation:
        """Metrics per split, figures and tables."""

    @abstractmethod
    def metric_names(self) -> list[str]:
        """What tuning may optimise: metrics validate() returns, without the split prefix."""

    @abstractmethod
    def metrics_of(self, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
        """Metrics on the gate's units: y from outcomes(), predictions from output_column."""

    # --- defaults ------------------------------------------------------------------------------

    def predict_frame(
        self, model: Any, X: pd.DataFrame, schema: Mapping[str, Any], **params: Any
    ) -> pd.DataFrame:
        """What the served model returns for the rows of X."""
        return outputs.predict(self.output, model, X, schema, **params)

    def score_evaluation(
        self, y: np.ndarray, scores: np.ndarray, oracle: np.ndarray | None = None
    ) -> Evaluation:
        """The test split's figures and tables that need only labels and scores (engine=spark
        logs these; what needs the features is left to engine=pandas)."""
        return Evaluation()

    def input_example(self, data: Prepared) -> pd.DataFrame:
        """Rows of the model's input, for its signature and example (no PII: never features)."""
        return data.parts["train"].X.head(100)

    def holdout(self, data: Prepared) -> pd.DataFrame:
        """The table kept with the model (the test split): promotion re-scores both models."""
        return part_to_frame(data.parts["test"])

    def outcomes(
        self, holdout: pd.DataFrame, schema: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Model input and what the gate compares against, one y per output row."""
        part = part_from_frame(holdout)
        return part.X, part.y

    def metric_function(self, name: str) -> Metric:
        """One metric as a function of (y, predictions), for bootstrap resamples."""
        return lambda y, predictions: self.metrics_of(y, predictions)[name]

    def baseline_scores(self, y: np.ndarray, X: pd.DataFrame | None = None) -> np.ndarray | None:
        """The naive model's predictions a challenger must beat (None: no baseline)."""
        return None

    def baselines(self, y: np.ndarray, X: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        """Every reference a challenger must beat, by name (the verdict table's check column).

        Default: the one naive model of baseline_scores, named "baseline". A task with several
        (uplift: random and the response model) overrides this.
        """
        scores = self.baseline_scores(y, X)
        return {} if scores is None else {"baseline": scores}

    @property
    def gate_metrics(self) -> tuple[str, ...]:
        """The metrics a challenger must win on against baselines and champion (its objective)."""
        return (self.objective,)

    def bootstrap_groups(self, y: np.ndarray) -> np.ndarray | None:
        """A group per unit the gate resamples whole (None: units are independent)."""
        return None

    def table_from_log(
        self, log: pd.DataFrame, cutoff: str, schema: Mapping[str, Any]
    ) -> pd.DataFrame:
        """The model's input built from an event log at a cutoff (tasks with scores_logs)."""
        raise UserError(f"a {self.name} model scores rows as they are: leave CUTOFF unset")

    # --- engine=spark (engines/spark.py) ------------------------------------------------------

    def prepare_spark(
        self, frame: Any, columns: Columns, sample: Sampler | None = None
    ) -> SparkPrepared | Prepared:
        """prepare() on a Spark DataFrame: lazily, nothing collected but documented counts.

        A task whose models have no Spark implementation builds its table in Spark, then
        finishes prepare() on `sample(table)`: the engine's documented seeded sample (pandas).
        """
        raise UserError(f"task {self.name} has no Spark implementation yet; use engine=pandas")

    def table_from_log_spark(self, log: Any, cutoff: str, schema: Mapping[str, Any]) -> Any:
        """table_from_log() on a Spark DataFrame (tasks with scores_logs)."""
        raise UserError(f"a {self.name} model scores rows as they are: leave CUTOFF unset")

    # --- shared checks -------------------------------------------------------------------------

    def require_rows(self, frame: pd.DataFrame, what: str = "the dataset") -> None:
        """Refuse empty data in one line, before anything else is checked."""
        if frame.empty:
            raise UserError(f"{what} has no rows; check dataset.path or the query behind it")


def scored(task: Task, model: Any, part: Part, schema: Mapping[str, Any]) -> np.ndarray:
    """The output column the gate judges, for one split."""
    return task.predict_frame(model, part.X, schema)[task.output_column].to_numpy()
