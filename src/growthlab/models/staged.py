"""Fit while reporting the validation curve, so a tuner can stop a hopeless trial early.

Boosting models are trained round by round: XGBoost through its callback API, scikit-learn's
histogram boosting through warm starts in chunks. Other estimators are fitted in one go.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline

Report = Callable[[int, float], None]  # (step, validation value, higher is better); may raise
CHUNKS = 10

# The task's objective -> XGBoost's name for it, the same metric on probabilities, and its
# sign (curves are reported higher-is-better). An objective without a curve prunes on ROC AUC.
CURVES: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], float], float]] = {
    "roc_auc": ("auc", roc_auc_score, 1.0),
    "average_precision": ("aucpr", average_precision_score, 1.0),
    "log_loss": ("logloss", log_loss, -1.0),
}


def fit_with_curve(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    report: Report,
    metric: str = "roc_auc",
) -> Pipeline:
    """Fit the pipeline on (X, y), calling report(step, valid metric) as training goes."""
    encoder, estimator = pipeline.steps[0][1], pipeline.steps[-1][1]
    Z = encoder.fit_transform(X)
    Z_valid = encoder.transform(X_valid)
    curve = CURVES.get(metric, CURVES["roc_auc"])
    if hasattr(estimator, "get_xgb_params"):
        _fit_xgboost(estimator, Z, y, Z_valid, y_valid, report, curve)
    elif hasattr(estimator, "warm_start") and hasattr(estimator, "max_iter"):
        _fit_warm_started(estimator, Z, y, Z_valid, y_valid, report, curve)
    else:
        estimator.fit(Z, y)
    return pipeline


def _fit_xgboost(estimator, Z, y, Z_valid, y_valid, report: Report, curve) -> None:  # noqa: ANN001
    from xgboost.callback import TrainingCallback

    name, _, sign = curve
    # Every report is a storage write (~40 ms on SQLite): about CHUNKS * 2 reports per fit.
    every = max(1, (estimator.get_params()["n_estimators"] or 100) // (2 * CHUNKS))

    class _Reporter(TrainingCallback):
        def after_iteration(self, model, epoch: int, evals_log: dict) -> bool:  # noqa: ANN001
            if epoch % every == every - 1:
                report(epoch, sign * float(evals_log["validation_0"][name][-1]))
            return False

    metric, callbacks = estimator.get_params()["eval_metric"], estimator.get_params()["callbacks"]
    estimator.set_params(eval_metric=name, callbacks=[_Reporter()])
    try:
        estimator.fit(Z, y, eval_set=[(Z_valid, y_valid)], verbose=False)
    finally:
        # The fitted model is pickled later: it must not carry the trial's callback.
        estimator.set_params(eval_metric=metric, callbacks=callbacks)


def _fit_warm_started(estimator, Z, y, Z_valid, y_valid, report: Report, curve) -> None:  # noqa: ANN001
    _, score, sign = curve
    total = estimator.get_params()["max_iter"]
    steps = sorted({max(1, round(total * (i + 1) / CHUNKS)) for i in range(CHUNKS)})
    estimator.set_params(warm_start=True)
    try:
        for step in steps:
            estimator.set_params(max_iter=step)
            estimator.fit(Z, y)
            report(step, sign * float(score(y_valid, estimator.predict_proba(Z_valid)[:, 1])))
    finally:
        estimator.set_params(warm_start=False, max_iter=total)
