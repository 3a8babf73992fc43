"""Make a classifier's probabilities honest: a calibrator learned on out-of-fold predictions.

Sales capacity planning reads the score as a conversion probability, so a model that ranks well
but is over- or under-confident is recalibrated without changing what it learned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

METHODS = ("auto", "sigmoid", "isotonic")
CLIP = 1e-6  # a calibrated 0 or 1 is never honest, and it makes log loss infinite
PLATT_C = 1e4  # near-unpenalised Platt scaling; a little penalty keeps separable data finite

Calibrator = IsotonicRegression | LogisticRegression


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """An estimator plus a sigmoid or isotonic map of its probabilities, fitted out of fold."""

    def __init__(
        self, estimator: BaseEstimator, method: str = "auto", cv: int = 3, seed: int = 0
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.seed = seed

    def fit(self, X: Any, y: Any) -> CalibratedModel:
        """Calibrate on out-of-fold probabilities, then refit the estimator on all rows."""
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; use one of {', '.join(METHODS)}")
        self.classes_, target = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(f"CalibratedModel is binary; got {len(self.classes_)} classes")
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        oof = cross_val_predict(clone(self.estimator), X, target, cv=folds, method="predict_proba")[
            :, 1
        ]
        self.losses_ = {}
        if self.method == "auto":
            # Each calibrator is judged on OOF rows it was not fitted on: isotonic would win
            # every in-sample comparison simply by having more freedom.
            halves = list(
                StratifiedKFold(2, shuffle=True, random_state=self.seed).split(oof, target)
            )
            for method in ("sigmoid", "isotonic"):
                crossed = np.empty(len(oof))
                for fit_rows, test_rows in halves:
                    calibrator = _fit_calibrator(method, oof[fit_rows], target[fit_rows])
                    crossed[test_rows] = _calibrate(calibrator, oof[test_rows])
                self.losses_[method] = float(log_loss(target, crossed, labels=[0, 1]))
            self.method_ = min(self.losses_, key=self.losses_.__getitem__)
        else:
            self.method_ = self.method
        self.calibrator_ = _fit_calibrator(self.method_, oof, target)
        self.estimator_ = clone(self.estimator).fit(X, target)
        return self

    def uncalibrated_proba(self, X: Any) -> np.ndarray:
        """The estimator's own probabilities (n, 2), for a before/after reliability plot."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        p = _calibrate(self.calibrator_, self.uncalibrated_proba(X)[:, 1])
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _fit_calibrator(method: str, p: np.ndarray, target: np.ndarray) -> Calibrator:
    if method == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, target)
    # Platt on the logit: a squashed or overconfident model is then exactly a linear rescale.
    return LogisticRegression(C=PLATT_C).fit(_logit(p)[:, None], target)


def _calibrate(calibrator: Calibrator, p: np.ndarray) -> np.ndarray:
    if isinstance(calibrator, IsotonicRegression):
        return np.clip(calibrator.predict(p), CLIP, 1 - CLIP)
    return calibrator.predict_proba(_logit(p)[:, None])[:, 1]  # strictly monotone: no clip


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, CLIP, 1 - CLIP)
    return np.log(p / (1 - p))
