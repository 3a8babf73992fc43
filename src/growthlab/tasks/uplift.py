"""Uplift: whom to contact, by the conversions the campaign causes, not the ones it would get.

From a randomised campaign (a treatment arm per customer and a 0/1 outcome), a meta-learner
(models/uplift.py) estimates each customer's incremental conversion probability. The arm is
put back into X under the dataset's treatment column, which the learner splits off before its
inner models; at scoring time no arm is needed. Splits are stratified by arm x outcome.

The gate's units are the test customers, y = [outcome, arm, response model, random] per row:
a challenger must beat random targeting and the response model (P(convert) among the treated,
the usual targeting mistake, fitted on the training split), both scored when the model was
trained and kept in the holdout, then the champion.

About 300 lines: the task fills in the whole Task contract, with its two baselines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from growthlab.data.arms import propensity_auc, treatment_arms
from growthlab.data.dataset import Columns
from growthlab.data.split import stratified_split
from growthlab.errors import UserError
from growthlab.metrics import uplift as um
from growthlab.tasks import LABEL, Evaluation, Part, Prepared, Task
from growthlab.tasks.lead_scoring import binary_target

log = logging.getLogger(__name__)

ARM, RESPONSE, RANDOM = "__arm__", "__response_model__", "__random__"  # holdout columns
MIN_ROWS = 100
MIN_PER_CELL = 5
LEARNERS = "s_learner, t_learner, x_learner or class_transformation"


class Uplift(Task):
    """Incremental conversion per customer from a randomised campaign, ranked by Qini."""

    objective = "qini"
    output = "uplift"
    output_column = "uplift"  # what the gate ranks by
    score_column = "uplift"  # ...and what batch scoring cuts in deciles
    headline = (
        "qini", "oracle_qini", "qini_share_of_oracle", "response_model_qini",
        "uplift_at_10pct", "ate", "best_share", "best_profit",
    )  # fmt: skip

    def __init__(
        self,
        name: str = "uplift",
        valid_size: float = 0.2,
        test_size: float = 0.2,
        fractions: Sequence[float] = (0.1, 0.2, 0.3),
        value_per_conversion: float = 40.0,
        contact_cost: float = 0.5,
        propensity_warning: float = 0.6,
        seed: int = 0,
    ) -> None:
        if value_per_conversion < 0 or contact_cost < 0:
            raise UserError("task.value_per_conversion and task.contact_cost must be >= 0")
        self.name = name
        self.valid_size = valid_size
        self.test_size = test_size
        self.fractions = tuple(fractions)
        self.value_per_conversion = value_per_conversion
        self.contact_cost = contact_cost
        self.propensity_warning = propensity_warning
        self.seed = seed

    # --- data ------------------------------------------------------------------------------

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> Prepared:
        self.require_rows(frame)
        if not columns.treatment:
            raise UserError(
                "uplift needs the campaign arm: set dataset.columns.treatment to the column "
                "saying who was contacted"
            )
        if not columns.target:
            raise UserError("uplift needs the outcome: set dataset.columns.target")
        columns.check(frame, "the data")
        arm, keep = treatment_arms(
            frame[columns.treatment], columns.treated_label, columns.control_label
        )
        frame = frame[keep]
        y = binary_target(frame[columns.target], columns.positive_label, "uplift")
        if len(y) < MIN_ROWS:
            raise UserError(f"only {len(y)} rows; uplift needs at least {MIN_ROWS}")
        for value, arm_name in ((1, "treated"), (0, "control")):
            converted = y[arm == value]
            fewer = int(converted.mean() <= 0.5)  # the rarer outcome in this arm
            count = int((converted == fewer).sum())
            if count < MIN_PER_CELL:  # the split stratifies by arm x outcome
                raise UserError(
                    f"{count} {arm_name} customers have {columns.target!r} = {fewer}: uplift "
                    f"needs at least {MIN_PER_CELL} conversions and non-conversions in each "
                    "arm; use more data"
                )
        features = columns.features(frame)
        info: dict[str, Any] = {"split": "stratified_by_arm_and_outcome", "arm_rows": len(y)}
        info["propensity_auc"] = auc = propensity_auc(features, arm, self.seed)
        if auc > self.propensity_warning:
            log.warning(
                "the arm is predictable from the features (propensity AUC %.2f > %.2f): "
                "this campaign does not look randomised, so uplift estimates mix the campaign "
                "with whom it chose to contact",
                auc,
                self.propensity_warning,
            )
        X = features.assign(**{columns.treatment: arm})
        oracle = frame[columns.oracle].to_numpy(dtype=float) if columns.oracle else None
        positions = stratified_split(2 * arm + y, self.valid_size, self.test_size, self.seed)
        parts = {}
        for split, rows in positions.items():
            parts[split] = Part(X.iloc[rows], y[rows], None if oracle is None else oracle[rows])
            info[f"{split}_rows"] = len(rows)
            info[f"{split}_treated_share"] = float(arm[rows].mean())
            info[f"{split}_base_rate"] = float(y[rows].mean())
        schema = {
            "treatment": columns.treatment,
            "value_per_conversion": float(self.value_per_conversion),
            "contact_cost": float(self.contact_cost),
        }
        return Prepared(parts, info, schema)

    # --- training --------------------------------------------------------------------------

    def fit(self, model: BaseEstimator, data: Prepared, report: Callable | None = None) -> Any:
        learner = _learner(model)
        if not hasattr(learner, "predict_uplift"):
            raise UserError(
                f"model {type(learner).__name__} is not an uplift learner: use model={LEARNERS}"
            )
        column = data.schema["treatment"]
        if getattr(learner, "treatment_column", column) != column:
            raise UserError(
                f"model.treatment_column={learner.treatment_column!r} but the arm is column "
                f"{column!r}: leave model.treatment_column at its default"
            )
        train = data.parts["train"]
        return model.fit(train.X, train.y)

    def validate(
        self, new_model: Callable[[], Any], data: Prepared, report: Callable | None = None
    ) -> dict[str, float]:
        """Fit on train, metrics on the validation customers (one step for the pruner)."""
        part = data.parts["valid"]
        metrics = self._metrics(
            part, data.schema, uplift_scores(self.fit(new_model(), data), part.X)
        )
        if report is not None:
            report(0, metrics[self.objective])
        return metrics

    # --- metrics ---------------------------------------------------------------------------

    def metric_names(self) -> list[str]:
        names = ["qini", "qini_normalized", "auuc", "auuc_normalized"]
        names += [f"uplift_at_{round(f * 100):g}pct" for f in self.fractions]
        return names + ["ate", "ate_low", "ate_high", "best_share", "best_profit"]

    def metrics_of(self, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
        """On the gate's units: y = [outcome, arm, ...] per customer, predictions the uplift."""
        outcome, arm = _outcome_and_arm(y)
        metrics = um.uplift_metrics(outcome, arm, predictions, self.fractions)
        _, metrics["ate_low"], metrics["ate_high"] = um.average_treatment_effect(outcome, arm)
        value, cost = self.value_per_conversion, self.contact_cost
        metrics["best_share"], metrics["best_profit"] = um.best_share(
            outcome, arm, predictions, value, cost
        )
        return metrics

    def metric_function(self, name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        """One metric of (y, uplift) alone: the gate's bootstrap calls it thousands of times."""
        single = {
            "qini": um.qini_coefficient,
            "qini_normalized": lambda y, t, u: um.qini_coefficient(y, t, u, normalize=True),
            "auuc": um.auuc,
            "auuc_normalized": lambda y, t, u: um.auuc(y, t, u, normalize=True),
        }
        if name in single:
            return lambda y, u: single[name](*_outcome_and_arm(y), u)
        return lambda y, u: self.metrics_of(y, u)[name]

    def _metrics(
        self, part: Part, schema: Mapping[str, Any], scores: np.ndarray
    ) -> dict[str, float]:
        y = _units(part, schema)
        metrics = self.metrics_of(y, scores)
        if part.oracle is not None:
            metrics["oracle_qini"] = oracle = um.qini_coefficient(y[:, 0], y[:, 1], part.oracle)
            metrics["qini_share_of_oracle"] = metrics["qini"] / oracle if oracle else np.nan
        return metrics

    # --- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, model: Any, data: Prepared, splits: Sequence[str] = ("valid", "test")
    ) -> Evaluation:
        """Metrics per split, the response model's Qini on test; Qini, decile and profit plots."""
        from growthlab.plots import uplift as plots

        result = Evaluation()
        scored = {}
        for split in dict.fromkeys([*splits, "test"]):
            part = data.parts[split]
            scored[split] = uplift_scores(model, part.X)
            if split in splits:
                metrics = self._metrics(part, data.schema, scored[split])
                result.metrics.update({f"{split}_{k}": v for k, v in metrics.items()})
        test, scores = data.parts["test"], scored["test"]
        y = _units(test, data.schema)
        response = self.response_model(data).predict_proba(test.X)[:, 1]
        result.metrics["test_response_model_qini"] = um.qini_coefficient(y[:, 0], y[:, 1], response)
        table = um.uplift_decile_table(y[:, 0], y[:, 1], scores)
        value, cost = self.value_per_conversion, self.contact_cost
        result.tables = {"test_uplift_deciles": table}
        result.figures = {
            "test_qini": plots.qini_figure(y[:, 0], y[:, 1], scores, test.oracle),
            "test_uplift_by_decile": plots.uplift_by_decile_figure(table),
            "test_profit": plots.profit_figure(y[:, 0], y[:, 1], scores, value, cost),
        }
        return result

    def response_model(self, data: Prepared) -> BaseEstimator:
        """The usual mistake to beat: P(convert) learned from the treated customers alone."""
        from xgboost import XGBClassifier

        from growthlab.models import tabular_pipeline
        from growthlab.models.preprocessing import FrameEncoder

        train = data.parts["train"]
        treated = train.X[data.schema["treatment"]].to_numpy() == 1
        # The learners' inner XGBoost (conf/model/t_learner.yaml): a like-for-like contrast.
        classifier = XGBClassifier(
            n_estimators=200,
            max_depth=3,
            learning_rate=0.05,
            min_child_weight=50.0,
            tree_method="hist",
            enable_categorical=True,
            max_cat_to_onehot=1,
            n_jobs=2,
            random_state=self.seed,
        )
        features = train.X.drop(columns=[data.schema["treatment"]])
        return tabular_pipeline(FrameEncoder(), classifier).fit(features[treated], train.y[treated])

    # --- the logged model and the gate -----------------------------------------------------

    def input_example(self, data: Prepared) -> pd.DataFrame:
        """Customer columns only: a model scores customers before any campaign arm exists."""
        return data.parts["train"].X.drop(columns=[data.schema["treatment"]]).head(100)

    def holdout(self, data: Prepared) -> pd.DataFrame:
        """Test customers, their outcome and arm, and both baselines' scores made at training."""
        test, column = data.parts["test"], data.schema["treatment"]
        X = test.X.drop(columns=[column])
        response = self.response_model(data).predict_proba(X)[:, 1]
        random = np.random.default_rng(self.seed).random(len(X))
        columns = {
            LABEL: test.y,
            ARM: test.X[column].to_numpy(),
            RESPONSE: response,
            RANDOM: random,
        }
        return X.assign(**columns).reset_index(drop=True)

    def outcomes(
        self, holdout: pd.DataFrame, schema: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        y = holdout[[LABEL, ARM, RESPONSE, RANDOM]].to_numpy(dtype=float)
        return holdout.drop(columns=[LABEL, ARM, RESPONSE, RANDOM]), y

    def baselines(self, y: np.ndarray, X: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        """Random targeting (Qini ~ 0) and the response model, both scored at training."""
        y = np.asarray(y, dtype=float)
        return {"random": y[:, 3], "response_model": y[:, 2]}


def uplift_scores(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The model's estimated uplift per customer (the served model's `uplift` column)."""
    return np.asarray(model.predict(X), dtype=float)


def _learner(model: Any) -> Any:
    return model[-1] if isinstance(model, Pipeline) else model


def _units(part: Part, schema: Mapping[str, Any]) -> np.ndarray:
    """[outcome, arm] per customer of a split, as the gate's y starts."""
    return np.column_stack([part.y, part.X[schema["treatment"]].to_numpy()]).astype(float)


def _outcome_and_arm(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    return y[:, 0].astype(np.int64), y[:, 1].astype(np.int64)
