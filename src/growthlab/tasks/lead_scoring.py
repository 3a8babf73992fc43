"""Lead scoring: which leads will convert, ranked so sales calls the best ones first.

About 300 lines: the task fills in the whole Task contract, with its importance and plots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import average_precision_score
from sklearn.model_selection import RepeatedStratifiedKFold

from growthlab.data.dataset import Columns
from growthlab.data.split import out_of_time_split, stratified_split
from growthlab.errors import UserError
from growthlab.metrics.classification import binary_metrics, decile_table, rank_auc
from growthlab.metrics.importance import permutation_importance
from growthlab.models import diagnostics
from growthlab.models.calibration import CalibratedModel
from growthlab.models.staged import Report, fit_with_curve
from growthlab.plots import classification as plots
from growthlab.tasks import Evaluation, Part, Prepared, SparkPrepared, Task
from growthlab.tasks.base import Sampler

MIN_ROWS = 50


class LeadScoring(Task):
    """Binary conversion target; stratified or out-of-time split; ranking metrics for sales."""

    objective = "roc_auc"  # what tuning maximises unless tuner.metric says otherwise
    minimized = ("log_loss", "brier")  # metrics where lower is better
    output = "scores"
    output_column = "score"  # the pyfunc's output the gate ranks by
    score_column = "score"  # ...and the one batch scoring cuts into deciles and checks for drift
    binary_labels = True
    floors = {"roc_auc": 0.6}  # the gate's default minimum (registry.gate.floors overrides)
    headline = ("roc_auc", "oracle_roc_auc", "average_precision", "lift_at_10pct")

    def __init__(
        self,
        name: str = "lead_scoring",
        valid_size: float = 0.2,
        test_size: float = 0.2,
        capacity: int | None = 500,
        fractions: Sequence[float] = (0.05, 0.10, 0.20),
        importance_rows: int = 5000,
        cv_below_rows: int = 20_000,
        cv_folds: int = 5,
        cv_repeats: int = 1,
        calibration: str = "none",
        seed: int = 0,
    ) -> None:
        if calibration not in ("none", "auto", "isotonic", "sigmoid"):
            raise UserError(
                f"task.calibration={calibration!r}; use none, auto, isotonic or sigmoid"
            )
        self.name = name
        self.valid_size = valid_size
        self.test_size = test_size
        self.capacity = capacity
        self.fractions = tuple(fractions)
        self.importance_rows = importance_rows
        self.cv_below_rows = cv_below_rows
        self.cv_folds = cv_folds
        self.cv_repeats = cv_repeats
        self.calibration = calibration
        self.seed = seed

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> Prepared:
        self.require_rows(frame)
        if not columns.target:
            raise UserError(f"{self.name} needs a label: set dataset.columns.target")
        columns.check(frame, "the data")
        y = binary_target(frame[columns.target], columns.positive_label)
        if len(y) < MIN_ROWS:
            raise UserError(f"only {len(y)} rows; {self.name} needs at least {MIN_ROWS}")
        if columns.time:
            positions = out_of_time_split(frame[columns.time], self.valid_size, self.test_size)
        else:
            positions = stratified_split(y, self.valid_size, self.test_size, self.seed)
        return self.assemble(frame, columns, y, positions)

    def prepare_spark(
        self, frame: Any, columns: Columns, sample: Sampler | None = None
    ) -> SparkPrepared:
        """prepare() on Spark: label checks and splits are aggregations; nothing is collected."""
        from growthlab.spark import splits

        if not columns.target:
            raise UserError(f"{self.name} needs a label: set dataset.columns.target")
        columns.check(frame, "the data")
        labelled = splits.binary_label(frame, columns.target, columns.positive_label)
        parts = splits.split(labelled, columns.time, self.valid_size, self.test_size, self.seed)
        info = {"split": "out_of_time" if columns.time else "random"}
        return splits.assemble(parts, columns, info)

    def assemble(
        self, frame: pd.DataFrame, columns: Columns, y: np.ndarray, positions: dict[str, np.ndarray]
    ) -> Prepared:
        """Parts from row positions per split, refusing a split with a single class."""
        features = columns.features(frame)
        oracle = frame[columns.oracle].to_numpy(dtype=float) if columns.oracle else None
        parts = {}
        info: dict[str, object] = {"split": "out_of_time" if columns.time else "stratified"}
        for split, rows in positions.items():
            part_y = y[rows]
            if part_y.min() == part_y.max():
                raise UserError(
                    f"the {split} split has only one class ({int(part_y[0])}); use more rows "
                    "or a larger task.valid_size / task.test_size"
                )
            parts[split] = Part(
                features.iloc[rows],
                part_y,
                None if oracle is None else oracle[rows],
            )
            info[f"{split}_rows"] = len(rows)
            info[f"{split}_base_rate"] = float(part_y.mean())
            if columns.time:
                times = frame[columns.time].iloc[rows]
                info[f"{split}_start"] = str(times.min())
                info[f"{split}_end"] = str(times.max())
        return Prepared(parts, info)

    def fit(
        self, model: BaseEstimator, data: Prepared, report: Report | None = None
    ) -> BaseEstimator:
        """Fit on train; with `report`, pass the validation curve to a tuner as training goes."""
        train, valid = data.parts["train"], data.parts["valid"]
        if report is None and self.calibration != "none":
            model = CalibratedModel(model, method=self.calibration, seed=self.seed)
        if report is None:
            return model.fit(train.X, train.y)
        return fit_with_curve(model, train.X, train.y, valid.X, valid.y, report, self.objective)

    def validate(
        self, new_model: Callable[[], BaseEstimator], data: Prepared, report: Report | None = None
    ) -> dict[str, float]:
        """Validation metrics of a fresh model, as a tuning trial needs them.

        On small data one validation split is too noisy to choose between models (a study
        overfits it), so below `cv_below_rows` rows the training part (train + valid) is
        cross-validated with stratified k-fold instead, reporting the running mean per fold.
        The test split is never touched here.
        """
        train, valid = data.parts["train"], data.parts["valid"]
        if len(train.y) + len(valid.y) >= self.cv_below_rows:
            return self.score(self.fit(new_model(), data, report), valid)
        pooled = data.with_valid_in_train().parts["train"]
        folds = RepeatedStratifiedKFold(
            n_splits=self.cv_folds, n_repeats=self.cv_repeats, random_state=self.seed
        )
        results = []
        for step, (fit_rows, held_rows) in enumerate(folds.split(pooled.X, pooled.y)):
            model = new_model().fit(pooled.X.iloc[fit_rows], pooled.y[fit_rows])
            results.append(self.score(model, _rows(pooled, held_rows)))
            if report is not None:
                report(step, float(np.mean([r[self.objective] for r in results])))
        return {k: float(np.mean([r[k] for r in results])) for k in results[0]}

    def metric_names(self) -> list[str]:
        """Every metric score() returns, without the split prefix."""
        names = ["roc_auc", "average_precision", "log_loss", "brier", "base_rate"]
        for fraction in self.fractions:
            names += [
                f"lift_at_{round(fraction * 100):g}pct",
                f"capture_at_{round(fraction * 100):g}pct",
            ]
        return names + (["precision_at_capacity"] if self.capacity else [])

    def metrics_of(self, y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
        return binary_metrics(y, scores, self.fractions, self.capacity)

    def metric_function(self, name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        """One metric as a function of (y, scores), for bootstrap resamples."""
        if name == "roc_auc":
            return rank_auc
        if name == "average_precision":
            return lambda y, s: float(average_precision_score(y, s))
        return lambda y, s: self.metrics_of(y, s)[name]

    def baseline_scores(self, y: np.ndarray, X: pd.DataFrame | None = None) -> np.ndarray:
        """The naive model a lead score must beat: everyone gets the base rate."""
        return np.full(len(y), float(np.mean(y)))

    def score(self, model: BaseEstimator, part: Part) -> dict[str, float]:
        """Metrics of the model on one split (no plots: cheap enough for every tuning trial)."""
        return self._metrics(part, positive_scores(model, part.X))

    def _metrics(self, part: Part, scores: np.ndarray) -> dict[str, float]:
        metrics = self.metrics_of(part.y, scores)
        if part.oracle is not None:
            oracle_auc = rank_auc(part.y, part.oracle)
            metrics["oracle_roc_auc"] = oracle_auc
            metrics["roc_auc_gap_to_oracle"] = oracle_auc - metrics["roc_auc"]
        return metrics

    def evaluate(
        self, model: BaseEstimator, data: Prepared, splits: Sequence[str] = ("valid", "test")
    ) -> Evaluation:
        """Metrics on the given splits; plots, deciles and importance on the test split."""
        result = Evaluation()
        predicted = {}  # each split is predicted once: metrics and plots share the scores
        for split in dict.fromkeys([*splits, "test"]):
            part = data.parts[split]
            predicted[split] = positive_scores(model, part.X)
            if split in splits:
                metrics = self._metrics(part, predicted[split])
                result.metrics.update({f"{split}_{k}": v for k, v in metrics.items()})
        result.metrics.update(diagnostics(model))
        test = data.parts["test"]
        shown = self.score_evaluation(
            test.y, predicted["test"], test.oracle, before=_uncalibrated(model, test.X)
        )
        importance = self.importance(model, test)
        result.tables = {**shown.tables, "test_permutation_importance": importance}
        result.figures = {
            **shown.figures,
            "test_feature_importance": plots.importance_figure(
                importance["feature"].tolist(),
                importance["importance"].to_numpy(),
                importance["std"].to_numpy(),
                xlabel="Drop in test ROC AUC when the column is shuffled",
            ),
        }
        return result

    def score_evaluation(
        self,
        y: np.ndarray,
        scores: np.ndarray,
        oracle: np.ndarray | None = None,
        before: np.ndarray | None = None,
    ) -> Evaluation:
        """Deciles, ROC, precision-recall, gains, lift and calibration (`before`: the scores
        before calibration, when the model calibrates them) of the test split."""
        deciles = decile_table(y, scores)
        figures = {
            "test_roc": plots.roc_figure(y, scores, oracle),
            "test_precision_recall": plots.precision_recall_figure(y, scores),
            "test_cumulative_gains": plots.gains_figure(y, scores),
            "test_lift_by_decile": plots.lift_by_decile_figure(deciles),
            "test_calibration": plots.calibration_figure(y, scores, before=before),
        }
        return Evaluation(tables={"test_deciles": deciles}, figures=figures)

    def importance(self, model: BaseEstimator, part: Part) -> pd.DataFrame:
        """Drop in ROC AUC when one raw column is shuffled (model-agnostic, on raw columns)."""
        rng = np.random.default_rng(self.seed)
        rows = np.sort(rng.permutation(len(part.y))[: self.importance_rows])
        X, y = part.X.iloc[rows], part.y[rows]
        if y.min() == y.max():
            return pd.DataFrame({"feature": [], "importance": [], "std": []})
        return permutation_importance(
            lambda frame: positive_scores(model, frame), X, y, rank_auc, seed=self.seed
        )


def positive_scores(model: BaseEstimator, X: pd.DataFrame) -> np.ndarray:
    """The probability of the positive class, as the served model's `score` column."""
    return model.predict_proba(X)[:, 1]


def _uncalibrated(model: BaseEstimator, X: pd.DataFrame) -> np.ndarray | None:
    return model.uncalibrated_proba(X)[:, 1] if hasattr(model, "uncalibrated_proba") else None


def _rows(part: Part, rows: np.ndarray) -> Part:
    oracle = None if part.oracle is None else part.oracle[rows]
    return Part(part.X.iloc[rows], part.y[rows], oracle)


def binary_target(
    values: pd.Series, positive_label: object = None, task: str = "lead scoring"
) -> np.ndarray:
    """0/1 labels from 0/1 numbers, booleans, or any values with a declared positive label."""
    name = values.name
    if values.isna().any():
        raise UserError(
            f"target {name!r} has {int(values.isna().sum())} missing values; "
            "drop those rows or fill them before training"
        )
    distinct = pd.unique(values)
    if positive_label is not None:
        matches = values.astype(str) == str(positive_label)
        if not matches.any():
            shown = ", ".join(map(repr, distinct[:5].tolist()))
            raise UserError(
                f"positive label {positive_label!r} never occurs in target {name!r} "
                f"(values: {shown}); fix dataset.columns.positive_label"
            )
        y = matches.to_numpy(dtype=np.int64)
    elif pd.api.types.is_bool_dtype(values) or (
        pd.api.types.is_numeric_dtype(values) and set(distinct.tolist()) <= {0, 1}
    ):
        y = values.to_numpy(dtype=np.int64)
    else:
        shown = ", ".join(map(repr, distinct[:5].tolist()))
        hint = (
            f"declare dataset.columns.positive_label={distinct[0]}"
            if len(distinct) == 2
            else f"{task} needs a binary target"
        )
        raise UserError(f"target {name!r} is not 0/1 (values: {shown}); {hint}")
    if y.min() == y.max():
        raise UserError(
            f"target {name!r} has only one class ({int(y[0])}); the model needs both "
            "converted and not converted rows"
        )
    return y
