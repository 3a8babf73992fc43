"""Uplift meta-learners: S, T, X and class transformation, each wrapping any classifier.

API: the treatment arm is a column of X (``treatment_column``, 0/1), so ``fit(X, y)`` works
inside a scikit-learn Pipeline, which passes only X and y; ``fit(X, y, treatment=...)`` is
accepted too. The column is dropped before any inner model sees X, and is optional at
prediction time: customers scored before a campaign have no arm.

The meta-learner sits IN FRONT of preprocessing and owns it: every inner model is
``tabular_pipeline(clone(encoder), clone(estimator))``, so each arm's model encodes its own
rows, and the outer ``preprocessing`` of the config is the identity (as for
:class:`~growthlab.models.ensemble.Ensemble`). Behind a FrameEncoder the learner could not
work: the encoder types the 0/1 arm as a number, with ``one_hot=True`` returns an unnamed,
standardised matrix in which the arm cannot be found, and once fitted demands the arm column
at scoring time. The S-learner passes the arm on to its model as a numeric feature of that
name. ``encoder=None`` hands X to ``estimator`` as is (then give a full pipeline). Keeping
``encoder`` and ``estimator`` apart makes tuning keys short: ``model.estimator.max_depth``.

``predict_uplift(X)`` (also ``predict``) returns P(y=1 | treated, x) - P(y=1 | control, x);
S, T and X learners also have ``predict_response(X)`` -> (P(y | treated), P(y | control)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from growthlab.errors import UserError
from growthlab.models import tabular_pipeline
from growthlab.models.preprocessing import FrameEncoder


def default_classifier() -> BaseEstimator:
    """One-hot logistic regression: a fast, sane inner model when none is configured."""
    return tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression(max_iter=1000))


def default_regressor() -> BaseEstimator:
    """Histogram gradient boosting on native categories, for the X-learner's effect models."""
    return tabular_pipeline(FrameEncoder(), HistGradientBoostingRegressor(max_depth=3))


class _MetaLearner(BaseEstimator):
    """Shared parts: split the arm off X, check it, fit and score inner clones."""

    def __init__(
        self, estimator: Any = None, encoder: Any = None, treatment_column: str = "treatment"
    ) -> None:
        self.estimator = estimator
        self.encoder = encoder
        self.treatment_column = treatment_column

    def fit(self, X: pd.DataFrame, y: Any, treatment: Any = None) -> _MetaLearner:
        """Learn from a randomised campaign; the arm comes from X's column or ``treatment``."""
        features, arm = self._split(X, treatment, required=True)
        outcome = _binary(y, "y", "map the outcome to 1 for converted and 0 otherwise")
        if len(outcome) != len(features):
            raise UserError(f"y has {len(outcome)} rows but X has {len(features)}: align them")
        self.feature_names_in_ = np.asarray(features.columns, dtype=object)
        self.treated_share_ = float(arm.mean())
        self._fit(features, outcome, arm)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The uplift score, so ``Pipeline.predict`` ranks customers by it."""
        return self.predict_uplift(X)

    def predict_uplift(self, X: pd.DataFrame) -> np.ndarray:
        """Estimated P(y=1 | treated, x) - P(y=1 | control, x), one value per row."""
        check_is_fitted(self, "treated_share_")
        return self._uplift(self._split(X, None, required=False)[0])

    def _split(
        self, X: pd.DataFrame, treatment: Any, required: bool
    ) -> tuple[pd.DataFrame, np.ndarray]:
        if not isinstance(X, pd.DataFrame):
            raise UserError(f"{type(self).__name__} expects a pandas DataFrame of raw columns")
        has_column = self.treatment_column in X.columns
        features = X.drop(columns=[self.treatment_column]) if has_column else X
        if treatment is None and has_column:
            treatment = X[self.treatment_column]
        if treatment is None:
            if required:
                raise UserError(
                    f"treatment column {self.treatment_column!r} is not in the training data; "
                    "set dataset.columns.treatment to the column holding the campaign arm"
                )
            return features, np.zeros(0, dtype=np.int64)
        fix = "map the treatment to 1 for contacted and 0 for control"
        arm = _binary(treatment, f"treatment column {self.treatment_column!r}", fix)
        if required and arm.min() == arm.max():
            raise UserError(
                f"treatment column {self.treatment_column!r} holds one arm only ({arm[0]}): "
                "uplift needs treated and control customers from a randomised campaign"
            )
        return features, arm

    def _fit(self, X: pd.DataFrame, y: np.ndarray, t: np.ndarray) -> None:
        raise NotImplementedError

    def _uplift(self, X: pd.DataFrame) -> np.ndarray:
        treated, control = self.predict_response(X)
        return treated - control

    def _inner(self) -> BaseEstimator:
        """A fresh inner classifier behind a fresh encoder."""
        if self.estimator is None and self.encoder is None:
            return default_classifier()
        return self._encoded(self.estimator, LogisticRegression(max_iter=1000))

    def _encoded(self, model: Any, default: BaseEstimator) -> BaseEstimator:
        model = clone(model) if model is not None else default
        return tabular_pipeline(clone(self.encoder), model) if self.encoder is not None else model


class SLearner(_MetaLearner):
    """One classifier on the features plus the arm; uplift = f(x, 1) - f(x, 0)."""

    def _fit(self, X: pd.DataFrame, y: np.ndarray, t: np.ndarray) -> None:
        self.model_ = self._inner().fit(_with_arm(X, self.treatment_column, t), y)

    def predict_response(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(y=1 | treated, x), P(y=1 | control, x)) from the one model, arm set both ways."""
        check_is_fitted(self, "model_")
        X = self._split(X, None, required=False)[0]
        ones, zeros = np.ones(len(X), np.int64), np.zeros(len(X), np.int64)
        col = self.treatment_column
        return (
            _positive(self.model_, _with_arm(X, col, ones)),
            _positive(self.model_, _with_arm(X, col, zeros)),
        )


class TLearner(_MetaLearner):
    """One classifier per arm; uplift = f_treated(x) - f_control(x)."""

    def _fit(self, X: pd.DataFrame, y: np.ndarray, t: np.ndarray) -> None:
        self.treated_model_, self.control_model_ = _fit_arms(self._inner, X, y, t)

    def predict_response(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(y=1 | treated, x), P(y=1 | control, x)) from the two arm models."""
        check_is_fitted(self, "treated_model_")
        X = self._split(X, None, required=False)[0]
        return _positive(self.treated_model_, X), _positive(self.control_model_, X)


class XLearner(TLearner):
    """Künzel et al.'s X-learner: arm models, then effect models on imputed effects.

    The effects imputed from the other arm's model (treated: y - f_control(x); control:
    f_treated(x) - y) are regressed on x in each arm, and the two effect models are blended
    with the propensity g: tau(x) = g * tau_control(x) + (1 - g) * tau_treated(x).
    ``effect_estimator`` is a regressor (default: histogram gradient boosting).
    ``propensity`` is a number in (0, 1) (0.5: equal weights; the treated share suits an
    unbalanced campaign) or ``"learned"``: a clone of ``estimator`` fitted to predict the arm.
    """

    def __init__(
        self,
        estimator: Any = None,
        encoder: Any = None,
        effect_estimator: Any = None,
        propensity: float | str = 0.5,
        treatment_column: str = "treatment",
    ) -> None:
        super().__init__(estimator, encoder, treatment_column)
        self.effect_estimator = effect_estimator
        self.propensity = propensity

    def _fit(self, X: pd.DataFrame, y: np.ndarray, t: np.ndarray) -> None:
        learned = self.propensity == "learned"
        if not learned and not (
            isinstance(self.propensity, int | float) and 0 < self.propensity < 1
        ):
            raise UserError(
                f"model.propensity must be a number in (0, 1) or 'learned' "
                f"(got {self.propensity!r})"
            )
        super()._fit(X, y, t)
        treated, control = t == 1, t == 0
        imputed_t = y[treated] - _positive(self.control_model_, X[treated])
        imputed_c = _positive(self.treated_model_, X[~treated]) - y[control]
        self.treated_effect_model_ = self._effect().fit(X[treated], imputed_t)
        self.control_effect_model_ = self._effect().fit(X[~treated], imputed_c)
        self.propensity_model_ = self._inner().fit(X, t) if learned else None

    def _uplift(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "treated_effect_model_")
        if self.propensity_model_ is not None:
            g = _positive(self.propensity_model_, X)
        else:
            g = np.full(len(X), float(self.propensity))
        tau_t = self.treated_effect_model_.predict(X)
        tau_c = self.control_effect_model_.predict(X)
        return g * tau_c + (1 - g) * tau_t

    def _effect(self) -> BaseEstimator:
        if self.effect_estimator is None and self.encoder is None:
            return default_regressor()
        return self._encoded(self.effect_estimator, HistGradientBoostingRegressor(max_depth=3))


class ClassTransformation(_MetaLearner):
    """Jaskowski & Jaroszewicz: one classifier of z = 1 if (treated and y) or (control and not y).

    With half the rows treated, uplift = 2 P(z=1 | x) - 1. Otherwise rows are weighted
    (treated 1 / 2p, control 1 / 2(1 - p), p the treated share) so both arms weigh the same,
    which keeps the identity exact; ``weighted=False`` turns that off.
    """

    def __init__(
        self,
        estimator: Any = None,
        encoder: Any = None,
        weighted: bool = True,
        treatment_column: str = "treatment",
    ) -> None:
        super().__init__(estimator, encoder, treatment_column)
        self.weighted = weighted

    def _fit(self, X: pd.DataFrame, y: np.ndarray, t: np.ndarray) -> None:
        z = (y == t).astype(np.int64)
        p = t.mean()
        weights = np.where(t == 1, 0.5 / p, 0.5 / (1 - p)) if self.weighted else None
        self.model_ = _fit_weighted(self._inner(), X, z, weights)

    def _uplift(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "model_")
        return 2.0 * _positive(self.model_, X) - 1.0


def _binary(values: Any, name: str, fix: str) -> np.ndarray:
    """0/1 (or bool) values as int64; anything else is the user's to map."""
    array = np.asarray(values).ravel()
    ok = np.isin(array, [0, 1]) if array.dtype != object else np.isin(array, [0, 1, True, False])
    if array.size == 0:
        raise UserError(f"{name} is empty: need rows to learn from")
    if not ok.all():
        raise UserError(f"{name} must be 0/1 but contains {array[~ok][0]!r}: {fix}")
    return array.astype(np.int64)


def _with_arm(X: pd.DataFrame, column: str, arm: np.ndarray) -> pd.DataFrame:
    """X with the arm as a numeric feature (the S-learner's only view of the treatment)."""
    return X.assign(**{column: arm.astype(np.float64)})


def _positive(model: BaseEstimator, X: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(X)[:, 1]


def _fit_arms(
    make: Any, X: pd.DataFrame, y: np.ndarray, t: np.ndarray
) -> tuple[BaseEstimator, BaseEstimator]:
    """One fresh model per arm; an arm whose outcomes are all equal cannot train a classifier."""
    models = []
    for arm, name in ((1, "treated"), (0, "control")):
        rows = t == arm
        if y[rows].min() == y[rows].max():
            raise UserError(
                f"every {name} customer has outcome {y[rows][0]}: need conversions and "
                "non-conversions in both arms; use more data"
            )
        models.append(make().fit(X[rows], y[rows]))
    return models[0], models[1]


def _fit_weighted(
    model: BaseEstimator, X: pd.DataFrame, y: np.ndarray, weights: np.ndarray | None
) -> BaseEstimator:
    """Fit with sample weights, routed to a pipeline's last step by name."""
    if weights is None:
        return model.fit(X, y)
    if isinstance(model, Pipeline):
        return model.fit(X, y, **{f"{model.steps[-1][0]}__sample_weight": weights})
    return model.fit(X, y, sample_weight=weights)
