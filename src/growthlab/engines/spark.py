"""engine=spark: read lazily, build features and train XGBoost on Apache Spark.

What reaches the driver, step by step (nothing else is collected):
- load: row count and a digest (one aggregation), the task's split counts and base rates
  (and two quantiles per class of a random split's draw),
  a seeded sample of at most IDENTIFIER_ROWS rows for the personal-data check;
- fit: a seeded sample of `sample_rows` training rows (the encoder learns column types and
  category levels from it; a model with no distributed implementation trains on it);
- evaluate and validate: label and score (and the oracle of simulated data) per row;
- the input example (100 rows) and the holdout (the test split), which the registry keeps.

A task whose models have no Spark implementation (segmentation, customer value) builds its
snapshot table in Spark and finishes prepare() on a seeded sample of at most `sample_rows` of
its rows (logged as the params sampled_rows / rows_before_sampling); every later step is then
the pandas engine's, on that sample.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from growthlab.data.identifiers import check_identifiers
from growthlab.engines import Engine, PandasEngine, Report
from growthlab.errors import UserError
from growthlab.models import diagnostics
from growthlab.tasks import Evaluation, Part, Prepared, SparkPrepared, Task

if TYPE_CHECKING:
    from growthlab.data.dataset import Dataset
    from growthlab.scoring import ScoringJob

log = logging.getLogger(__name__)

IDENTIFIER_ROWS = 10_000
EXAMPLE_ROWS = 100
ENCODER_ROWS = 100_000  # with sample_rows=null: rows the encoder learns column types from
LOCAL = PandasEngine()  # the steps of a task trained on a sample (see sampler)


class SparkEngine(Engine):
    """Apache Spark, local[*] or a cluster; XGBoost trains with xgboost.spark."""

    name = "spark"

    def __init__(
        self,
        master: str = "local[*]",
        app_name: str = "growthlab",
        conf: Mapping[str, Any] | None = None,
        num_workers: int = 2,
        sample_rows: int | None = 200_000,
        seed: int = 0,
    ) -> None:
        from growthlab.spark import require_spark

        require_spark()  # engine=spark without PySpark or Java stops before any data is read
        self.master = master
        self.app_name = app_name
        self.conf = dict(conf or {})
        self.num_workers = num_workers
        self.sample_rows = sample_rows
        self.seed = seed

    def session(self) -> Any:
        from growthlab.spark import session

        return session(self.master, self.app_name, self.conf)

    def score(self, job: ScoringJob) -> dict[str, float]:
        """Parquet in, Parquet out, with mlflow.pyfunc.spark_udf (growthlab.spark.scoring)."""
        from growthlab.spark import scoring

        return scoring.score(self.session(), job)

    # --- the steps ------------------------------------------------------------------------------

    def load(self, dataset: Dataset, task: Task) -> tuple[SparkPrepared | Prepared, int, str]:
        from growthlab.spark import frames

        started = time.perf_counter()
        spark = self.session()
        frame = dataset.read_spark(spark)
        frame = frames.with_times(frame, dataset.columns.time)
        if not dataset.allow_undeclared_identifiers:
            head = frame.limit(IDENTIFIER_ROWS).toPandas()
            check_identifiers(head, dataset.columns.declared(), f"dataset {dataset.name!r}")
        rows, digest = frames.digest(frame)
        if rows == 0:
            raise UserError("the dataset has no rows; check dataset.path or the table behind it")
        taken: dict[str, int] = {}
        data = task.prepare_spark(frame, dataset.columns, self.sampler(task, taken))
        data.info.update({"engine": "spark", "spark_master": self.master, **taken})
        log.info(
            "loaded %s on Spark: %d rows in %.1fs",
            dataset.name,
            rows,
            time.perf_counter() - started,
        )
        return data, rows, digest

    def sampler(self, task: Task, taken: dict[str, int]) -> Callable[[Any], pd.DataFrame]:
        """The seeded sample a task without Spark models finishes prepare() on (collected)."""

        def sample(table: Any) -> pd.DataFrame:
            from pyspark import StorageLevel

            from growthlab.spark import frames

            if self.sample_rows is None:
                raise UserError(
                    f"task {task.name} has no model with a Spark implementation: set "
                    "engine.sample_rows to train on a seeded sample of its table"
                )
            table = table.persist(StorageLevel.MEMORY_AND_DISK)  # counted, then sampled
            total = table.count()
            rows = frames.sample(table, self.sample_rows, total, self.seed)
            table.unpersist()
            taken.update(sampled_rows=len(rows), rows_before_sampling=total)
            log.warning(
                "task %s has no Spark model: it trains and is judged on a seeded sample of %d "
                "of %d rows (engine.sample_rows)",
                task.name,
                len(rows),
                total,
            )
            return rows

        return sample

    def fit(
        self, task: Task, model: Any, data: SparkPrepared | Prepared, report: Report | None = None
    ) -> Any:
        from growthlab.spark import frames, training

        if isinstance(data, Prepared):  # a sampled table (see sampler): the pandas steps
            return LOCAL.fit(task, model, data, report)
        train = data.parts["train"]
        total = int(data.info.get("train_rows") or train.count())
        if training.distributed(model) and task.binary_labels:
            sample = frames.sample(train, self.sample_rows or ENCODER_ROWS, total, self.seed)
            return training.fit_xgboost(
                model, train, data.features, data.label, sample, self.num_workers
            )
        if self.sample_rows is None:
            raise UserError(
                f"{type(model).__name__} has no Spark implementation: use model=xgboost, or set "
                "engine.sample_rows to train it on a seeded sample"
            )
        sample = frames.sample(train, self.sample_rows, total, self.seed)
        log.warning(
            "the model has no Spark implementation: trained on a seeded sample of %d of %d rows "
            "(engine.sample_rows)",
            len(sample),
            total,
        )
        part = Part(sample[data.features], sample[data.label].to_numpy())
        return task.fit(model, Prepared({"train": part, "valid": part}, dict(data.info)))

    def validate(
        self,
        task: Task,
        new_model: Callable[[], Any],
        data: SparkPrepared | Prepared,
        report: Report | None = None,
    ) -> dict[str, float]:
        if isinstance(data, Prepared):
            return LOCAL.validate(task, new_model, data, report)
        model = self.fit(task, new_model(), data)
        metrics = self.metrics(task, model, data, "valid")
        if report is not None:
            report(0, metrics[task.objective])
        return metrics

    def evaluate(
        self, task: Task, model: Any, data: SparkPrepared | Prepared, splits: Sequence[str]
    ) -> Evaluation:
        """Metrics, figures and tables from scores and labels only (deciles, ROC, gains, lift,
        calibration, ...); what needs the features on the driver (permutation importance, the
        scores before calibration) is left to engine=pandas."""
        if isinstance(data, Prepared):
            return LOCAL.evaluate(task, model, data, splits)
        result = Evaluation()
        for split in dict.fromkeys([*splits, "test"]):
            y, scores, oracle = self.scored(model, data, split)
            if split in splits:
                metrics = self.metrics_of(task, y, scores, oracle)
                result.metrics.update({f"{split}_{k}": v for k, v in metrics.items()})
            if split == "test":
                shown = task.score_evaluation(y, scores, oracle)
                result.figures, result.tables = shown.figures, shown.tables
        result.metrics.update(diagnostics(model))
        return result

    def metrics(self, task: Task, model: Any, data: SparkPrepared, split: str) -> dict[str, float]:
        return self.metrics_of(task, *self.scored(model, data, split))

    def scored(
        self, model: Any, data: SparkPrepared, split: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Labels, scores (computed on the executors) and the oracle of one split, collected."""
        from growthlab.spark import training

        keep = [data.label] + ([data.oracle] if data.oracle else [])
        scored = training.scores(model, data.parts[split], data.features, keep)
        y = scored[data.label].to_numpy().astype("int64")
        oracle = scored[data.oracle].to_numpy() if data.oracle else None
        return y, scored[training.SCORE].to_numpy(), oracle

    @staticmethod
    def metrics_of(
        task: Task, y: np.ndarray, scores: np.ndarray, oracle: np.ndarray | None
    ) -> dict[str, float]:
        from growthlab.metrics.classification import rank_auc

        metrics = task.metrics_of(y, scores)
        if oracle is not None:
            metrics["oracle_roc_auc"] = rank_auc(y, oracle)
            metrics["roc_auc_gap_to_oracle"] = metrics["oracle_roc_auc"] - metrics.get(
                "roc_auc", float("nan")
            )
        return metrics

    def samples(self, data: SparkPrepared | Prepared) -> dict[str, pd.DataFrame]:
        """The head of each split: the schema of the dataset records (rows: see the params)."""
        if isinstance(data, Prepared):
            return LOCAL.samples(data)
        return {
            name: part.select(*[f"`{c}`" for c in data.features]).limit(EXAMPLE_ROWS).toPandas()
            for name, part in data.parts.items()
        }

    def split_rows(self, data: SparkPrepared | Prepared) -> dict[str, int] | None:
        """Each split's rows, counted when the task split it (samples() are heads only)."""
        if isinstance(data, Prepared):
            return None
        counted = {name: data.info.get(f"{name}_rows") for name in data.parts}
        return {name: int(n) for name, n in counted.items() if n is not None} or None

    def input_example(self, task: Task, data: SparkPrepared | Prepared) -> pd.DataFrame:
        if isinstance(data, Prepared):
            return LOCAL.input_example(task, data)
        return task.input_example(self.local(data, ("train",), EXAMPLE_ROWS))

    def holdout(self, task: Task, data: SparkPrepared | Prepared) -> pd.DataFrame:
        """The test split, collected: a promotion re-scores champion and challenger on it."""
        if isinstance(data, Prepared):
            return LOCAL.holdout(task, data)
        return task.holdout(self.local(data, ("test",)))

    def local(
        self, data: SparkPrepared, splits: Sequence[str], rows: int | None = None
    ) -> Prepared:
        """Splits as pandas parts (features and label), for what must live on the driver."""
        parts = {}
        for split in splits:
            frame = data.parts[split].select(*[f"`{c}`" for c in [*data.features, data.label]])
            table = (frame.limit(rows) if rows else frame).toPandas()
            parts[split] = Part(table[data.features], table[data.label].to_numpy().astype("int64"))
        return Prepared(parts, dict(data.info), data.schema)
