"""Customer value: how much each customer will spend in the next horizon, and how often they buy.

From a transaction log, point-in-time snapshots at churn's cutoffs (one implementation of the
features: data/value_targets.py builds on churn's build_snapshots), one row per customer with a
purchase before the cutoff; the targets are the spend and the number of purchases in the
`horizon_days` after it. Out of time by cutoff, as churn: the latest fully observed cutoff is
the test, the one before it validates.

Two references a model must beat, on normalised Gini (ranking) and MAE (money), beyond the
paired bootstrap interval: BG/NBD x Gamma-Gamma fitted on each split's own history (the model
marketers trust; it needs no labels, so it is fitted in prepare and stored in the holdout) and
the naive "same spend as the last horizon". Tuning maximises the validation normalised Gini:
tiers, targeting and budgets act on the ranking, and the Tweedie loss keeps the scale; MAE is
judged by the gate (tuner.metric=valid_mae minimises it instead).

Over 300 lines: the snapshots of both engines, the splits with their BG/NBD reference and the
metrics beside both baselines fill in the whole Task contract.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier

from growthlab.data.dataset import Columns
from growthlab.data.snapshots import (
    CUTOFF,
    cutoff_positions,
    log_roles,
    log_to_score,
    split_cutoffs,
)
from growthlab.data.value_targets import NAIVE, PURCHASES, SPEND, build_value_snapshots
from growthlab.errors import UserError
from growthlab.metrics import value as value_metrics
from growthlab.models.btyd import BetaGeoGammaGamma
from growthlab.models.customer_value import SpendAndPurchases
from growthlab.plots.value import tier_figure, value_calibration_figure, value_gains_figure
from growthlab.tasks import LABEL, Evaluation, Part, Prepared, Task
from growthlab.tasks.base import Sampler

SEASON = "cutoff_month"  # the month of the cutoff: the horizon's season (Q4 spends more)
BGNBD = "__bgnbd__"
NAIVE_COLUMN = "__naive__"
PURCHASES_COLUMN = "__purchases__"
# y per customer, in every split and in the gate: actual spend, the two baselines, purchases.
Y_COLUMNS = (LABEL, BGNBD, NAIVE_COLUMN, PURCHASES_COLUMN)
BASELINES = {"bgnbd": 1, "naive": 2}  # metric prefix -> column of y
Report = Callable[[int, float], None]


class CustomerValue(Task):
    """Next-horizon spend per customer from log snapshots, against BG/NBD x GG and naive."""

    objective = "normalized_gini"
    minimized = ("mae", "rmse", "purchases_mae")
    gate_metrics = ("normalized_gini", "mae")  # type: ignore[assignment]
    output = "value"
    output_column = "value"
    score_column = "value"  # batch scoring cuts value in deciles and watches its drift
    scores_logs = True
    headline = (
        *("normalized_gini", "bgnbd_normalized_gini", "naive_normalized_gini"),
        *("mae", "bgnbd_mae", "naive_mae", "aggregate_error_pct", "value_captured_at_10pct"),
    )

    def __init__(
        self,
        name: str = "customer_value",
        horizon_days: int = 90,
        every_days: int = 30,
        n_cutoffs: int = 13,
        windows: Sequence[int] = (30, 90, 180),
        season: bool = True,
        tier_cuts: Sequence[float] = (0.1, 0.3, 0.6),
        shares: Sequence[float] = (0.1, 0.2),
        bgnbd_penalizer: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.horizon_days = horizon_days
        self.every_days = every_days
        self.n_cutoffs = n_cutoffs
        self.windows = tuple(windows)
        self.season = season
        self.tier_cuts = tuple(value_metrics.check_tier_cuts(tier_cuts))
        self.shares = tuple(shares)
        self.bgnbd_penalizer = bgnbd_penalizer
        self.seed = seed

    # --- data ----------------------------------------------------------------------------------

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> Prepared:
        self.require_rows(frame, "the transaction log")
        roles = self.log_roles(columns)
        cutoffs = split_cutoffs(
            frame[columns.time], self.horizon_days, self.every_days, self.n_cutoffs, self.windows
        )
        return self.split(self.snapshots(frame, roles, cutoffs), roles, cutoffs)

    def prepare_spark(
        self, frame: Any, columns: Columns, sample: Sampler | None = None
    ) -> Prepared:
        """prepare() with the snapshots built by Spark; the models (BG/NBD, a regressor per
        target) have no Spark implementation, so the splits are the engine's seeded sample."""
        from growthlab.spark import snapshots as spark_snapshots

        roles = self.log_roles(columns)
        if sample is None:
            return super().prepare_spark(frame, columns)
        facts = spark_snapshots.log_facts(frame, columns.id, columns.time, columns.amount)
        times = spark_snapshots.time_range(facts, columns.time)
        cutoffs = split_cutoffs(
            times, self.horizon_days, self.every_days, self.n_cutoffs, self.windows
        )
        table = self.spark_snapshots(frame, roles, cutoffs, facts=facts)
        rows = sample(table).sort_values([CUTOFF, roles["id"]], ignore_index=True)
        return self.split(rows, roles, cutoffs)

    def spark_snapshots(
        self, log: Any, roles: Mapping[str, str | None], cutoffs: list[Any], **options: Any
    ) -> Any:
        """snapshots() on a Spark DataFrame (growthlab.spark.value)."""
        from pyspark.sql import functions as F

        from growthlab.spark.value import build_value_snapshots as spark_build

        table = spark_build(log, cutoffs, **self.snapshot_options(roles), **options)
        if self.season:
            table = table.withColumn(SEASON, F.month(CUTOFF).cast("double"))
        return table

    def table_from_log_spark(self, log: Any, cutoff: str, schema: Mapping[str, Any]) -> Any:
        """table_from_log() on Spark: every customer with a purchase before the cutoff."""
        from growthlab.spark.frames import log_to_score as spark_log_to_score

        roles = schema.get("log")
        log = spark_log_to_score(log, roles, "customer value model")
        table = self.spark_snapshots(log, roles, [pd.Timestamp(cutoff)], labels=False)
        return table.drop(NAIVE)

    @staticmethod
    def log_roles(columns: Columns) -> dict[str, str | None]:
        """The log's column roles, all three of id, time and amount declared."""
        if not (columns.id and columns.time and columns.amount):
            raise UserError(
                "customer value needs a transaction log: set dataset.columns.id (customer), "
                ".time and .amount"
            )
        return log_roles(columns)

    def split(
        self, snapshots: pd.DataFrame, roles: Mapping[str, Any], cutoffs: list[pd.Timestamp]
    ) -> Prepared:
        """Out of time by cutoff, with BG/NBD fitted on each later split's own history."""
        if (snapshots["frequency_total"] <= 1).all():
            raise UserError(
                "every customer has one purchase before each cutoff, so nothing says how often "
                "they return; use a longer log or fewer, later cutoffs (task.n_cutoffs)"
            )
        positions = cutoff_positions(snapshots[CUTOFF].to_numpy(), cutoffs)
        features = self.features(snapshots, roles["id"])
        y = snapshots[[SPEND, SPEND, NAIVE, PURCHASES]].to_numpy(np.float64)  # as Y_COLUMNS
        y[:, 1] = np.nan  # BG/NBD's predictions: filled below for valid and test
        info: dict[str, Any] = {
            "split": "out_of_time_cutoffs",
            "cutoffs": ",".join(f"{c:%Y-%m-%d}" for c in cutoffs),
            "horizon_days": self.horizon_days,
        }
        parts = {}
        for split, rows in positions.items():
            part = Part(features.iloc[rows], y[rows])
            if split != "train":  # the reference fits each split's history, never its future
                started = time.perf_counter()
                part.y[:, 1] = self.bgnbd(part.X)
                info[f"{split}_bgnbd_fit_seconds"] = round(time.perf_counter() - started, 3)
            if part.y[:, 0].sum() <= 0:
                raise UserError(
                    f"no customer of the {split} cutoff buys in the {self.horizon_days} days "
                    "after it; lower task.horizon_days or use a longer log"
                )
            parts[split] = part
            info[f"{split}_rows"] = len(rows)
            info[f"{split}_buyers"] = float(np.mean(part.y[:, 0] > 0))
            info[f"{split}_start"] = str(snapshots[CUTOFF].iloc[rows].min())
            info[f"{split}_end"] = str(snapshots[CUTOFF].iloc[rows].max())
        return Prepared(parts, info, {"log": roles, "tier_cuts": list(self.tier_cuts)})

    def snapshots(
        self,
        log: pd.DataFrame,
        roles: Mapping[str, str | None],
        cutoffs: list[Any],
        labels: bool = True,
    ) -> pd.DataFrame:
        """Per (customer, cutoff): churn's features, the naive baseline, the season, the future."""
        table = build_value_snapshots(log, cutoffs, **self.snapshot_options(roles), labels=labels)
        if self.season:  # cheap, and churn's features stay as they are
            table[SEASON] = table[CUTOFF].dt.month.astype(np.float64)
        return table

    def snapshot_options(self, roles: Mapping[str, str | None]) -> dict[str, Any]:
        """The value snapshot builders' keywords: the pandas and the Spark one take the same."""
        return {
            "id_col": roles["id"],
            "time_col": roles["time"],
            "amount_col": roles["amount"],
            "channel_col": roles["channel"],
            "horizon_days": self.horizon_days,
            "windows": self.windows,
        }

    @staticmethod
    def features(snapshots: pd.DataFrame, id_col: str | None) -> pd.DataFrame:
        """The model's input: the snapshot without id, cutoff, future and naive columns."""
        roles = Columns(id=id_col, time=CUTOFF, drop=[SPEND, PURCHASES, NAIVE])
        return roles.features(snapshots.drop(columns=[SPEND, PURCHASES], errors="ignore"))

    def bgnbd(self, X: pd.DataFrame) -> np.ndarray:
        """BG/NBD x Gamma-Gamma fitted on these customers' history, their expected spend."""
        model = BetaGeoGammaGamma(horizon_days=self.horizon_days, penalizer=self.bgnbd_penalizer)
        try:
            return model.fit(X).predict(X)
        except UserError as exc:  # its hints name model.*: here the knob is the task's
            raise UserError(
                f"the BG/NBD x Gamma-Gamma baseline: {exc} (the baseline's penalty is "
                "task.bgnbd_penalizer)"
            ) from None

    def table_from_log(
        self, log: pd.DataFrame, cutoff: str, schema: Mapping[str, Any]
    ) -> pd.DataFrame:
        """Every customer with a purchase before the cutoff: id, cutoff and the model's input."""
        roles = schema.get("log")
        log = log_to_score(log, roles, "customer value model")
        table = self.snapshots(log, roles, [pd.Timestamp(cutoff)], labels=False)
        return table.drop(columns=[NAIVE])

    # --- training ------------------------------------------------------------------------------

    def fit(self, model: BaseEstimator, data: Prepared, report: Report | None = None) -> Any:
        """Spend and purchases on the training cutoffs; tiers from the training predictions."""
        train = data.parts["train"]
        return SpendAndPurchases(_regressor(model), self.tier_cuts).fit(train.X, train.y[:, [0, 3]])

    def validate(
        self, new_model: Callable[[], BaseEstimator], data: Prepared, report: Report | None = None
    ) -> dict[str, float]:
        """A tuning trial: the spend model alone (purchases and tiers are not tuned)."""
        train, valid = data.parts["train"], data.parts["valid"]
        model = _regressor(new_model()).fit(train.X, train.y[:, 0])
        predicted = np.clip(np.asarray(model.predict(valid.X), dtype=np.float64), 0.0, None)
        return self.metrics_of(valid.y, predicted)

    # --- metrics -------------------------------------------------------------------------------

    def metric_names(self) -> list[str]:
        captured = [f"value_captured_at_{round(s * 100):g}pct" for s in self.shares]
        return ["normalized_gini", "mae", "rmse", "aggregate_error_pct", *captured]

    def metrics_of(self, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
        return value_metrics.value_metrics(_actual(y), predictions, self.shares)

    def metric_function(self, name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        """One metric alone: the gate's bootstrap calls it thousands of times."""
        functions = {
            "normalized_gini": value_metrics.normalized_gini,
            "mae": value_metrics.mae,
            "rmse": value_metrics.rmse,
            "aggregate_error_pct": value_metrics.aggregate_error_pct,
        }
        if name in functions:
            return lambda y, p: functions[name](_actual(y), p)
        return lambda y, p: self.metrics_of(y, p)[name]

    def baselines(self, y: np.ndarray, X: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        """BG/NBD x Gamma-Gamma (fitted at training, on the holdout's history) and naive."""
        y = np.asarray(y, dtype=np.float64)
        return {"bgnbd_gamma_gamma": y[:, 1], "naive": y[:, 2]}

    def evaluate(
        self, model: SpendAndPurchases, data: Prepared, splits: Sequence[str] = ("valid", "test")
    ) -> Evaluation:
        """Metrics per split beside both baselines'; calibration, tiers and gains on test."""
        result = Evaluation()
        for split in dict.fromkeys([*splits, "test"]):
            part = data.parts[split]
            predicted = model.predict(part.X)
            if split not in splits:
                continue
            metrics = self.metrics_of(part.y, predicted)
            for prefix, column in BASELINES.items():
                base = self.metrics_of(part.y, part.y[:, column])
                metrics |= {f"{prefix}_{k}": v for k, v in base.items()}
            purchases = model.predict_purchases(part.X)
            metrics["purchases_mae"] = float(np.mean(np.abs(purchases - part.y[:, 3])))
            metrics["bgnbd_fit_seconds"] = float(data.info.get(f"{split}_bgnbd_fit_seconds", 0))
            result.metrics.update({f"{split}_{k}": v for k, v in metrics.items()})
        test = data.parts["test"]
        actual, predicted = test.y[:, 0], model.predict(test.X)
        calibration = value_metrics.calibration_table(actual, predicted, min(10, len(actual)))
        tiers = value_metrics.tier_table(actual, predicted, self.tier_cuts)
        result.tables = {"test_value_calibration": calibration, "test_value_tiers": tiers}
        rankings = {
            "model": predicted,
            "BG/NBD x Gamma-Gamma": test.y[:, 1],
            "naive (last horizon)": test.y[:, 2],
        }
        result.figures = {
            "test_value_calibration": value_calibration_figure(calibration),
            "test_value_tiers": tier_figure(tiers),
            "test_value_gains": value_gains_figure(actual, rankings),
        }
        return result

    # --- the logged model and the gate ---------------------------------------------------------

    def holdout(self, data: Prepared) -> pd.DataFrame:
        """The test customers' input, actual spend, both baselines' predictions and purchases."""
        test = data.parts["test"]
        columns = dict(zip(Y_COLUMNS, test.y.T, strict=True))
        return test.X.assign(**columns).reset_index(drop=True)

    def outcomes(
        self, holdout: pd.DataFrame, schema: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        return holdout.drop(columns=list(Y_COLUMNS)), holdout[list(Y_COLUMNS)].to_numpy(float)


def _regressor(model: BaseEstimator) -> BaseEstimator:
    """The configured model, if it predicts amounts (a classifier would read spend as classes)."""
    if is_classifier(model):
        raise UserError(
            "customer value predicts amounts: choose a regressor, model=xgboost_regressor "
            "or model=bgnbd_gamma_gamma"
        )
    return model


def _actual(y: np.ndarray) -> np.ndarray:
    """The actual spend: y's first column (y also carries the baselines and purchases)."""
    y = np.asarray(y, dtype=np.float64)
    return y[:, 0] if y.ndim == 2 else y
