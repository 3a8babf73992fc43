"""CalibratedModel: out-of-fold calibration repairs a miscalibrated model without new ranking."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

from growthlab.models.calibration import CalibratedModel


class Squashed(ClassifierMixin, BaseEstimator):
    """A logistic regression whose probabilities are pulled towards 0.5: ranks well, lies."""

    def __init__(self, factor: float = 0.2) -> None:
        self.factor = factor

    def fit(self, X: np.ndarray, y: np.ndarray) -> Squashed:
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 0.5 + (self.model_.predict_proba(X)[:, 1] - 0.5) * self.factor
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logit = -1.5 + X @ np.array([1.5, -1.0, 0.5])
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.fixture(scope="module")
def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = data(3000, 0)
    return X[:2000], y[:2000], X[2000:], y[2000:]


@pytest.mark.parametrize("method", ["auto", "sigmoid", "isotonic"])
def test_calibration_improves_log_loss_of_a_squashed_model(method: str, split: tuple) -> None:
    X, y, X_test, y_test = split
    model = CalibratedModel(Squashed(), method=method, cv=3, seed=1).fit(X, y)
    before = log_loss(y_test, model.uncalibrated_proba(X_test)[:, 1])
    after = log_loss(y_test, model.predict_proba(X_test)[:, 1])
    assert after < before - 0.05
    assert model.method_ in ("sigmoid", "isotonic")
    if method != "auto":
        assert model.method_ == method


def test_auto_picks_the_calibrator_with_the_lower_cross_fitted_log_loss(split: tuple) -> None:
    X, y, _, _ = split
    model = CalibratedModel(Squashed(), cv=3).fit(X, y)
    assert set(model.losses_) == {"sigmoid", "isotonic"}
    assert model.method_ == min(model.losses_, key=model.losses_.get)
    # The squashing is an exact logit rescale, which the sigmoid calibrator undoes.
    assert model.method_ == "sigmoid"


def test_sigmoid_calibration_keeps_the_ranking(split: tuple) -> None:
    X, y, X_test, y_test = split
    model = CalibratedModel(Squashed(), method="sigmoid").fit(X, y)
    raw = model.uncalibrated_proba(X_test)[:, 1]
    calibrated = model.predict_proba(X_test)[:, 1]
    assert roc_auc_score(y_test, calibrated) == pytest.approx(roc_auc_score(y_test, raw), abs=1e-12)
    assert np.all(np.diff(calibrated[np.argsort(raw)]) >= 0)


def test_behaves_like_a_classifier_and_clones(split: tuple) -> None:
    X, y, X_test, _ = split
    labels = np.where(y == 1, "won", "lost")
    model = CalibratedModel(Squashed(factor=0.5), method="auto", cv=4, seed=2)
    copy = clone(model)
    assert copy.get_params()["estimator__factor"] == 0.5
    assert copy.estimator is not model.estimator
    copy.set_params(estimator__factor=0.3)
    assert copy.estimator.factor == 0.3 and model.estimator.factor == 0.5

    assert model.fit(X, labels) is model
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    assert ((proba > 0) & (proba < 1)).all()
    assert list(model.classes_) == ["lost", "won"]
    np.testing.assert_array_equal(model.predict(X_test), model.classes_[proba.argmax(axis=1)])
    assert not hasattr(model.estimator, "model_")  # the given estimator is never fitted


def test_unknown_method_is_refused(split: tuple) -> None:
    X, y, _, _ = split
    with pytest.raises(ValueError, match="method='beta'"):
        CalibratedModel(Squashed(), method="beta").fit(X, y)
