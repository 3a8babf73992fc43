"""Churn: which active customers are about to stop buying, and how many are worth an offer.

Two input shapes, one task: a customer table with a churn label (it is then a binary target
like lead scoring's), or a transaction log (dataset.columns.amount declared), from which
point-in-time snapshots are built at several cutoffs: features only from events before each
cutoff, the label "no purchase in the horizon after it". The latest fully observed cutoff is
the out-of-time test, the one before it the validation split.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from growthlab.data.dataset import Columns
from growthlab.data.snapshots import (
    CUTOFF,
    LABEL,
    build_snapshots,
    cutoff_positions,
    log_roles,
    log_to_score,
    split_cutoffs,
)
from growthlab.errors import UserError
from growthlab.metrics.retention import best_contact, value_curve
from growthlab.plots.retention import value_curve_figure
from growthlab.tasks import LABEL as TASK_LABEL
from growthlab.tasks import Evaluation, Prepared, SparkPrepared
from growthlab.tasks.base import Sampler
from growthlab.tasks.lead_scoring import LeadScoring


class Churn(LeadScoring):
    """Lead scoring's ranking machinery, with snapshots, a value curve and a recency baseline."""

    headline = (*LeadScoring.headline, "best_contact_fraction", "best_contact_value")
    scores_logs = True  # trained on a log, it scores customers from a log at a cutoff

    def __init__(
        self,
        name: str = "churn",
        horizon_days: int = 90,
        active_window_days: int = 180,
        every_days: int = 30,
        n_cutoffs: int = 6,
        windows: tuple[int, ...] = (30, 90, 180),
        value_per_saved_customer: float = 100.0,
        contact_cost: float = 5.0,
        save_rate: float = 0.3,
        recency_column: str = "recency_days",
        **shared: Any,
    ) -> None:
        super().__init__(name=name, **shared)
        self.horizon_days = horizon_days
        self.active_window_days = active_window_days
        self.every_days = every_days
        self.n_cutoffs = n_cutoffs
        self.windows = tuple(windows)
        self.value_per_saved_customer = value_per_saved_customer
        self.contact_cost = contact_cost
        self.save_rate = save_rate
        self.recency_column = recency_column

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> Prepared:
        if not columns.amount:
            return super().prepare(frame, columns)
        self.require_rows(frame, "the transaction log")
        if not (columns.id and columns.time):
            raise UserError("a transaction log needs dataset.columns.id (customer) and .time")
        cutoffs = split_cutoffs(
            frame[columns.time], self.horizon_days, self.every_days, self.n_cutoffs, self.windows
        )
        snapshots = self.snapshots(frame, log_roles(columns), cutoffs)
        positions = cutoff_positions(snapshots[CUTOFF].to_numpy(), cutoffs)
        roles = Columns(id=columns.id, target=LABEL, time=CUTOFF)
        data = self.assemble(snapshots, roles, snapshots[LABEL].to_numpy(), positions)
        data.info.update(
            {
                "split": "out_of_time_cutoffs",
                "cutoffs": ",".join(f"{c:%Y-%m-%d}" for c in cutoffs),
                "horizon_days": self.horizon_days,
            }
        )
        data.schema["log"] = log_roles(columns)
        return data

    def prepare_spark(
        self, frame: Any, columns: Columns, sample: Sampler | None = None
    ) -> SparkPrepared:
        """prepare() on Spark: snapshots by Spark SQL, split by cutoff; the snapshot table is
        cached on the executors (memory, then disk): every split and fit reads it again."""
        if not columns.amount:
            return super().prepare_spark(frame, columns, sample)
        from pyspark import StorageLevel

        from growthlab.spark import snapshots as spark_snapshots
        from growthlab.spark import splits

        if not (columns.id and columns.time):
            raise UserError("a transaction log needs dataset.columns.id (customer) and .time")
        roles = log_roles(columns)
        facts = spark_snapshots.log_facts(frame, columns.id, columns.time, columns.amount)
        times = spark_snapshots.time_range(facts, columns.time)
        cutoffs = split_cutoffs(
            times, self.horizon_days, self.every_days, self.n_cutoffs, self.windows
        )
        table = self.spark_snapshots(frame, roles, cutoffs, facts=facts)
        table = table.withColumnRenamed(LABEL, TASK_LABEL).persist(StorageLevel.MEMORY_AND_DISK)
        cut = table[CUTOFF]
        valid, test = cutoffs[-2].to_pydatetime(), cutoffs[-1].to_pydatetime()
        parts = {"train": cut < valid, "valid": cut == valid, "test": cut == test}
        info = {
            "split": "out_of_time_cutoffs",
            "cutoffs": ",".join(f"{c:%Y-%m-%d}" for c in cutoffs),
            "horizon_days": self.horizon_days,
        }
        split_roles = Columns(id=columns.id, target=LABEL, time=CUTOFF)
        data = splits.assemble({k: table.where(v) for k, v in parts.items()}, split_roles, info)
        data.schema["log"] = roles
        return data

    def spark_snapshots(
        self, log: Any, roles: Mapping[str, str | None], cutoffs: list[Any], **options: Any
    ) -> Any:
        """snapshots() on a Spark DataFrame (growthlab.spark.snapshots)."""
        from growthlab.spark.snapshots import build_snapshots as spark_build

        return spark_build(log, cutoffs, **self.snapshot_options(roles), **options)

    def table_from_log_spark(self, log: Any, cutoff: str, schema: Mapping[str, Any]) -> Any:
        """table_from_log() on Spark: the snapshot of active customers at the cutoff."""
        from growthlab.spark.frames import log_to_score as spark_log_to_score

        roles = schema.get("log")
        log = spark_log_to_score(log, roles, "churn model")
        return self.spark_snapshots(log, roles, [pd.Timestamp(cutoff)], labels=False)

    def snapshots(
        self,
        log: pd.DataFrame,
        roles: Mapping[str, str | None],
        cutoffs: list[Any],
        labels: bool = True,
    ) -> pd.DataFrame:
        """Point-in-time rows per (customer, cutoff): features before it, label after it."""
        return build_snapshots(log, cutoffs, **self.snapshot_options(roles), labels=labels)

    def snapshot_options(self, roles: Mapping[str, str | None]) -> dict[str, Any]:
        """The snapshot builders' keywords: the pandas and the Spark one take the same."""
        return {
            "id_col": roles["id"],
            "time_col": roles["time"],
            "amount_col": roles["amount"],
            "channel_col": roles["channel"],
            "horizon_days": self.horizon_days,
            "active_window_days": self.active_window_days,
            "windows": self.windows,
        }

    def table_from_log(
        self, log: pd.DataFrame, cutoff: str, schema: Mapping[str, Any]
    ) -> pd.DataFrame:
        """The customer table the model scores: snapshot features of active customers at cutoff."""
        roles = schema.get("log")
        log = log_to_score(log, roles, "churn model")
        return self.snapshots(log, roles, [pd.Timestamp(cutoff)], labels=False)

    def metric_names(self) -> list[str]:
        return [*super().metric_names(), "best_contact_fraction", "best_contact_value"]

    def metrics_of(self, y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
        metrics = super().metrics_of(y, scores)
        fraction, value = best_contact(self.value_curve(y, scores))
        return {**metrics, "best_contact_fraction": fraction, "best_contact_value": value}

    def value_curve(self, y: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
        return value_curve(
            y, scores, self.value_per_saved_customer, self.contact_cost, self.save_rate
        )

    def baseline_scores(self, y: np.ndarray, X: pd.DataFrame | None = None) -> np.ndarray:
        """The rule a churn model must beat: the longer since the last purchase, the riskier."""
        if X is not None and self.recency_column in X:
            recency = pd.to_numeric(X[self.recency_column], errors="coerce").to_numpy(float)
            return np.nan_to_num(
                recency, nan=np.nanmax(recency) if np.isfinite(recency).any() else 0
            )
        return super().baseline_scores(y, X)

    def score_evaluation(
        self,
        y: np.ndarray,
        scores: np.ndarray,
        oracle: np.ndarray | None = None,
        before: np.ndarray | None = None,
    ) -> Evaluation:
        """Lead scoring's, and the value of contacting the riskiest customers first."""
        result = super().score_evaluation(y, scores, oracle, before)
        curve = self.value_curve(y, scores)
        fraction, value = best_contact(curve)
        result.tables["test_value_curve"] = curve
        result.figures["test_retention_value"] = value_curve_figure(curve, fraction, value)
        return result
