"""Uplift meta-learners: sklearn contract, the treatment column API, and effect recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from growthlab.errors import UserError
from growthlab.models import tabular_pipeline
from growthlab.models.preprocessing import FrameEncoder
from growthlab.models.uplift import ClassTransformation, SLearner, TLearner, XLearner
from tests.conftest import API_CHECKS

LEARNERS = {
    "SLearner": SLearner(),
    "TLearner": TLearner(),
    "XLearner": XLearner(),
    "ClassTransformation": ClassTransformation(),
}


def campaign(n: int = 6000, treated: float = 0.5, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A campaign whose effect is +12 points for engaged customers and -4 for the rest."""
    rng = np.random.default_rng(seed)
    engaged = rng.normal(size=n)
    region = rng.choice(["north", "south"], n)
    tau = np.where(engaged > 0, 0.12, -0.04)
    t = (rng.random(n) < treated).astype(int)
    p = 0.25 + 0.05 * (region == "north") + t * tau
    X = pd.DataFrame({"engaged": engaged, "region": region, "treatment": t})
    X.attrs["tau"] = tau
    return X, (rng.random(n) < p).astype(int)


def inner() -> Pipeline:
    return tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression(max_iter=500))


def trees() -> Pipeline:
    # The S-learner needs arm x feature interactions, which a linear model cannot express.
    return tabular_pipeline(FrameEncoder(), HistGradientBoostingClassifier(max_depth=3))


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize("estimator", LEARNERS.values(), ids=LEARNERS.keys())
def test_sklearn_api_contract(check: str, estimator: object) -> None:
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)(type(estimator).__name__, estimator)


@pytest.mark.parametrize("name", LEARNERS)
def test_learners_rank_by_true_effect(name: str) -> None:
    X, y = campaign()
    model = clone(LEARNERS[name]).set_params(estimator=trees())
    pipe = Pipeline([("encode", FunctionTransformer()), ("model", model)]).fit(X, y)
    scores = pipe.predict(X)
    tau = X.attrs["tau"]
    assert scores.shape == (len(X),)
    assert scores[tau > 0].mean() > scores[tau < 0].mean() + 0.05
    # Scoring needs no treatment column (customers before a campaign have no arm).
    np.testing.assert_allclose(model.predict_uplift(X.drop(columns="treatment")), scores)


@pytest.mark.parametrize("name", ["SLearner", "TLearner", "XLearner"])
def test_response_probabilities(name: str) -> None:
    X, y = campaign(2000)
    model = clone(LEARNERS[name]).set_params(estimator=inner()).fit(X, y)
    treated, control = model.predict_response(X)
    assert treated.shape == control.shape == (len(X),)
    assert (treated >= 0).all() and (treated <= 1).all()
    if name != "XLearner":  # the X-learner's uplift comes from its effect models
        np.testing.assert_allclose(model.predict_uplift(X), treated - control)


def test_treatment_as_an_argument() -> None:
    X, y = campaign(2000)
    from_column = TLearner(inner()).fit(X, y).predict_uplift(X)
    from_arg = TLearner(inner()).fit(X.drop(columns="treatment"), y, treatment=X["treatment"])
    np.testing.assert_allclose(from_arg.predict_uplift(X), from_column)


def test_nested_params_are_tunable() -> None:
    model = SLearner(inner()).set_params(estimator__model__C=0.1)
    assert model.get_params()["estimator__model__C"] == 0.1
    split = SLearner(LogisticRegression(), FrameEncoder(one_hot=True)).set_params(estimator__C=2)
    assert split.get_params()["estimator__C"] == 2


def test_encoder_apart_equals_a_full_pipeline() -> None:
    X, y = campaign(2000)
    apart = TLearner(LogisticRegression(max_iter=500), FrameEncoder(one_hot=True)).fit(X, y)
    whole = TLearner(inner()).fit(X, y)
    np.testing.assert_allclose(apart.predict_uplift(X), whole.predict_uplift(X))
    weighted = ClassTransformation(LogisticRegression(), FrameEncoder(one_hot=True))
    assert weighted.fit(X, y).predict_uplift(X).shape == (len(X),)


def test_class_transformation_weights_an_unbalanced_campaign() -> None:
    # 80 % treated: the unweighted transform mistakes the arm imbalance for an effect.
    X, y = campaign(20_000, treated=0.8, seed=1)
    tau = X.attrs["tau"]
    weighted = ClassTransformation(inner()).fit(X, y).predict_uplift(X)
    plain = ClassTransformation(inner(), weighted=False).fit(X, y).predict_uplift(X)
    assert abs(weighted.mean() - tau.mean()) < 0.03
    assert abs(plain.mean() - tau.mean()) > 0.1


def test_x_learner_learned_propensity() -> None:
    X, y = campaign(3000, treated=0.7)
    model = XLearner(inner(), propensity="learned").fit(X, y)
    assert model.propensity_model_ is not None
    scores = model.predict_uplift(X)
    assert scores[X.attrs["tau"] > 0].mean() > scores[X.attrs["tau"] < 0].mean()
    with pytest.raises(UserError, match="propensity"):
        XLearner(inner(), propensity=1.5).fit(X, y)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda X: X.assign(treatment=1), "one arm only"),
        (lambda X: X.assign(treatment=X["treatment"] * 2), "must be 0/1"),
        (lambda X: X.assign(treatment="yes"), "must be 0/1"),
        (lambda X: X.drop(columns="treatment"), "dataset.columns.treatment"),
    ],
    ids=["one_arm", "two", "text", "missing"],
)
def test_user_mistakes(change: object, match: str) -> None:
    X, y = campaign(500)
    with pytest.raises(UserError, match=match):
        TLearner(inner()).fit(change(X), y)  # type: ignore[operator]


def test_arm_without_conversions_is_a_user_error() -> None:
    X, y = campaign(500)
    y = np.where(X["treatment"] == 1, 0, y)
    with pytest.raises(UserError, match="every treated customer"):
        TLearner(inner()).fit(X, y)


@pytest.mark.parametrize("name", ["s_learner", "t_learner", "x_learner", "class_transformation"])
def test_model_yaml_builds_and_fits_on_the_simulated_campaign(name: str) -> None:
    from growthlab.build import build
    from tests.conftest import compose_config

    overrides = ["dataset=simulated_campaign", "dataset.n_customers=3000"]
    cfg = compose_config([f"model={name}", *overrides, "model.estimator.n_estimators=20"])
    model = build(cfg.model, "model")
    assert model.treatment_column == "treatment"
    dataset = build(cfg.dataset, "dataset")
    frame = dataset.load()
    X = dataset.columns.features(frame).assign(treatment=frame["treatment"])
    pipe = tabular_pipeline(build(cfg.preprocessing, "preprocessing"), model)
    scores = pipe.fit(X, frame["converted"]).predict(X.drop(columns="treatment"))
    assert scores.shape == (len(frame),) and np.isfinite(scores).all()
