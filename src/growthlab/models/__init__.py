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


def runtime_imports(model: object) -> tuple[str, ...]:
    """On-demand packages (packages.PACKAGES) the model imports when it predicts: those named by
    any estimator in it (`runtime_imports()`), found through scikit-learn's nested params."""
    parts = [model]
    if hasattr(model, "get_params"):
        parts += [v for v in model.get_params(deep=True).values() if hasattr(v, "get_params")]
    found = (
        name
        for part in parts
        if hasattr(part, "runtime_imports")
        for name in part.runtime_imports()
    )
    return tuple(dict.fromkeys(found))


def tabular_pipeline(encoder: BaseEstimator, estimator: BaseEstimator) -> Pipeline:
    """Raw columns in, predictions out: the encoder learns types, the estimator learns the rest."""
    return Pipeline([("encode", encoder), ("model", estimator)])
