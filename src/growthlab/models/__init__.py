"""The project's own estimators and the one way a model becomes a pipeline."""

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline


def diagnostics(model: object) -> dict[str, float]:
    """What the innermost estimator says about its own fit (an ensemble: members and weights)."""
    while True:
        if hasattr(model, "diagnostics"):
            return dict(model.diagnostics())
        if isinstance(model, Pipeline):
            model = model.steps[-1][1]
        elif hasattr(model, "estimator_"):
            model = model.estimator_
        else:
            return {}


def tabular_pipeline(encoder: BaseEstimator, estimator: BaseEstimator) -> Pipeline:
    """Raw columns in, predictions out: the encoder learns types, the estimator learns the rest."""
    return Pipeline([("encode", encoder), ("model", estimator)])
