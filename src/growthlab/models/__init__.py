"""The project's own estimators and the one way a model becomes a pipeline."""

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline


def tabular_pipeline(encoder: BaseEstimator, estimator: BaseEstimator) -> Pipeline:
    """Raw columns in, predictions out: the encoder learns types, the estimator learns the rest."""
    return Pipeline([("encode", encoder), ("model", estimator)])
