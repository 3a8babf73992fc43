"""Ensemble: sklearn contract, hand-checked rank averaging, out-of-fold honesty, Hydra build."""

from __future__ import annotations

from typing import ClassVar

import cloudpickle
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import PredefinedSplit, cross_val_predict
from xgboost import XGBClassifier

from growthlab.data.dataset import Columns
from growthlab.data.simulator import MarketingSimulator
from growthlab.models import tabular_pipeline
from growthlab.models.ensemble import WEIGHT_GRID, Ensemble
from growthlab.models.preprocessing import FrameEncoder
from growthlab.runner import model_spec
from growthlab.search_space import parse_space

from .conftest import compose_config


class ColumnScorer(ClassifierMixin, BaseEstimator):
    """A member whose score is one input column: the test knows every score it gives."""

    def __init__(self, column: str = "good") -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> ColumnScorer:
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = X[self.column].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])


class LeakDetector(ColumnScorer):
    """Scores its column, but 0.999 for any row it was trained on; logs every fit and predict."""

    calls: ClassVar[list[tuple[str, frozenset[int]]]] = []

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> LeakDetector:
        self.seen_ = frozenset(X["row_id"].tolist())
        LeakDetector.calls.append(("fit", self.seen_))
        return super().fit(X, y)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        LeakDetector.calls.append(("predict", frozenset(X["row_id"].tolist())))
        seen = X["row_id"].isin(self.seen_).to_numpy()
        p = np.where(seen, 0.999, X[self.column].to_numpy(dtype=float))
        return np.column_stack([1 - p, p])


def scored_frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """'good' is the true probability, 'noise' is unrelated to the label."""
    rng = np.random.default_rng(seed)
    good = rng.uniform(0.01, 0.99, n)
    frame = pd.DataFrame(
        {"row_id": np.arange(n), "good": good, "noise": rng.uniform(0.01, 0.99, n)}
    )
    return frame, (rng.uniform(size=n) < good).astype(int)


def raw_frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Raw marketing-like columns: a string category, a number with gaps, a flag."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["email", "search", "social"], n)
    visits = rng.poisson(3, n).astype(float)
    visits[rng.uniform(size=n) < 0.1] = np.nan
    logit = -1 + (channel == "search") * 1.5 + np.nan_to_num(visits, nan=3) * 0.3
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame = pd.DataFrame({"channel": channel, "visits": visits, "paid": rng.uniform(size=n) < 0.5})
    return frame, y


def pipelines() -> dict[str, BaseEstimator]:
    return {
        "logistic_regression": tabular_pipeline(
            FrameEncoder(one_hot=True), LogisticRegression(max_iter=500)
        ),
        "xgboost": tabular_pipeline(
            FrameEncoder(),
            XGBClassifier(n_estimators=20, max_depth=3, enable_categorical=True, n_jobs=1),
        ),
    }


# --- the scikit-learn contract ----------------------------------------------------------------


def test_nested_params_round_trip_through_get_set_params_and_clone() -> None:
    ensemble = Ensemble(pipelines(), weights="learned", cv=3)
    params = ensemble.get_params()
    assert params["members__xgboost__model__max_depth"] == 3
    assert params["members__logistic_regression__model__C"] == 1.0

    ensemble.set_params(members__xgboost__model__max_depth=5, cv=4)
    assert ensemble.get_params()["members__xgboost__model__max_depth"] == 5
    assert ensemble.cv == 4

    copy = clone(ensemble)
    assert copy.members["xgboost"] is not ensemble.members["xgboost"]
    assert copy.get_params()["members__xgboost__model__max_depth"] == 5
    assert copy.get_params()["cv"] == 4

    replaced = LogisticRegression(C=0.1)
    copy.set_params(members__logistic_regression=replaced, members__logistic_regression__C=0.2)
    assert copy.members["logistic_regression"] is replaced and replaced.C == 0.2
    assert isinstance(ensemble.members["logistic_regression"].steps[-1][1], LogisticRegression)
    with pytest.raises(ValueError, match="no ensemble member 'svm'"):
        copy.set_params(members__svm__C=1.0)


def test_members_may_be_a_list_of_pairs() -> None:
    ensemble = Ensemble(list(pipelines().items()))
    ensemble.set_params(members__xgboost__model__max_depth=2)
    assert ensemble.get_params()["members__xgboost__model__max_depth"] == 2
    assert clone(ensemble).get_params()["members__xgboost__model__max_depth"] == 2


@pytest.mark.parametrize("method", ["rank_average", "stacking"])
def test_fits_and_predicts_like_a_classifier(method: str) -> None:
    X, y = raw_frame()
    ensemble = Ensemble(pipelines(), method=method, weights="learned", cv=3, seed=1)
    assert ensemble.fit(X, y) is ensemble
    proba = ensemble.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(ensemble.classes_) == ["no", "yes"]
    np.testing.assert_array_equal(ensemble.predict(X), ensemble.classes_[proba.argmax(axis=1)])
    assert set(ensemble.member_scores_) == set(ensemble.weights_) == set(pipelines())
    assert sum(abs(w) for w in ensemble.weights_.values()) == pytest.approx(1.0)
    assert roc_auc_score(y == "yes", proba[:, 1]) > 0.7


@pytest.mark.parametrize("method", ["rank_average", "stacking"])
def test_a_row_scores_the_same_alone_as_in_a_batch(method: str) -> None:
    X, y = raw_frame()
    ensemble = Ensemble(pipelines(), method=method, cv=3).fit(X, y)
    batch = ensemble.predict_proba(X.iloc[:50])[:, 1]
    alone = [ensemble.predict_proba(X.iloc[[i]])[0, 1] for i in (0, 7, 49)]
    np.testing.assert_allclose(alone, batch[[0, 7, 49]], rtol=1e-12)


# --- rank averaging by hand -------------------------------------------------------------------


def test_rank_average_matches_a_hand_computed_example() -> None:
    # Member a scores column a, member b column b: the OOF scores are these columns exactly.
    train = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.4], "b": [0.8, 0.6, 0.4, 0.2]})
    y = np.array([1, 0, 1, 0])
    members = {"a": ColumnScorer("a"), "b": ColumnScorer("b")}
    ensemble = Ensemble(members, weights=[1, 3], cv=2).fit(train, y)
    assert ensemble.weights_ == {"a": 0.25, "b": 0.75}

    new = pd.DataFrame({"a": [0.25, 0.2, 0.05, 0.9], "b": [0.6, 0.5, 0.9, 0.1]})
    # Mid-rank percentile: (#OOF scores below + half of #ties) / 4.
    pct_a = np.array([2, 1 + 0.5, 0, 4]) / 4  # against 0.1 0.2 0.3 0.4
    pct_b = np.array([2 + 0.5, 2, 4, 0]) / 4  # against 0.2 0.4 0.6 0.8
    np.testing.assert_allclose(ensemble.percentiles(new[["a", "b"]].to_numpy()).T, [pct_a, pct_b])
    blend = 0.25 * pct_a + 0.75 * pct_b
    np.testing.assert_allclose(ensemble.blended_score(new), blend)

    # Platt is fitted on the OOF blend, and maps the blend monotonically to a probability.
    oof_blend = 0.25 * np.array([0.125, 0.375, 0.625, 0.875]) + 0.75 * np.array(
        [0.875, 0.625, 0.375, 0.125]
    )
    np.testing.assert_allclose(ensemble.oof_, train.to_numpy())
    platt = LogisticRegression(C=1e4).fit(oof_blend[:, None], y)
    np.testing.assert_allclose(
        ensemble.predict_proba(new)[:, 1], platt.predict_proba(blend[:, None])[:, 1], rtol=1e-6
    )
    order = np.argsort(blend)
    assert np.all(np.diff(ensemble.predict_proba(new)[order, 1]) > 0)


def test_probabilities_keep_the_blend_order_even_when_it_anti_predicts() -> None:
    X, y = scored_frame(300)
    ensemble = Ensemble({"good": ColumnScorer("good")}, cv=3).fit(X, 1 - y)
    blend = ensemble.blended_score(X)
    proba = ensemble.predict_proba(X)[:, 1]
    assert np.all(np.diff(proba[np.argsort(blend)]) >= 0)
    assert proba.std() > 0 and proba.mean() == pytest.approx((1 - y).mean(), abs=1e-3)


def test_learned_weights_pick_the_member_that_is_not_noise() -> None:
    X, y = scored_frame(600)
    members = {"noise": ColumnScorer("noise"), "good": ColumnScorer("good")}
    ensemble = Ensemble(members, weights="learned", cv=3).fit(X, y)
    assert ensemble.member_scores_["good"] > 0.75 > 0.6 > ensemble.member_scores_["noise"]
    assert ensemble.weights_["good"] >= 0.8 > ensemble.weights_["noise"]
    assert sum(ensemble.weights_.values()) == pytest.approx(1.0)


def test_learned_weights_beyond_three_members_use_non_negative_least_squares() -> None:
    X, y = scored_frame(600)
    members = {f"noise{i}": ColumnScorer("noise") for i in range(3)} | {"good": ColumnScorer()}
    ensemble = Ensemble(members, weights="learned", cv=3).fit(X, y)
    assert ensemble.weights_["good"] > 0.9
    assert all(w >= 0 for w in ensemble.weights_.values())


# --- out-of-fold honesty ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["stacking", "rank_average"])
def test_combiner_learns_only_from_out_of_fold_predictions(method: str) -> None:
    X, y = scored_frame(200)
    LeakDetector.calls.clear()
    members = {"first": LeakDetector("good"), "second": LeakDetector("noise")}
    ensemble = Ensemble(members, method=method, cv=4, seed=3).fit(X, y)

    # A member predicting a row it was fitted on would have scored it 0.999.
    np.testing.assert_allclose(ensemble.oof_, X[["good", "noise"]].to_numpy())
    # Each fold model was fitted on exactly the other folds' rows and predicted only its fold.
    rows = X["row_id"].to_numpy()
    assert sorted(np.unique(ensemble.fold_)) == [0, 1, 2, 3]
    fold_calls = LeakDetector.calls[: 2 * 4 * 2]  # 4 folds x 2 members x (fit, predict)
    for k in range(4):
        for j in range(2):
            (_, fitted), (_, predicted) = fold_calls[4 * k + 2 * j : 4 * k + 2 * j + 2]
            assert fitted == frozenset(rows[ensemble.fold_ != k])
            assert predicted == frozenset(rows[ensemble.fold_ == k])
    if method == "stacking":
        # The meta-model trusts the informative member, as it would not if it saw leaked 0.999s.
        assert ensemble.weights_["first"] > ensemble.weights_["second"]
    # The final members are refitted on every row.
    assert all(m.seen_ == frozenset(rows) for m in ensemble.members_.values())


# --- config and persistence -------------------------------------------------------------------


def test_builds_from_the_hydra_config_fits_and_pickles() -> None:
    xgboost = "model.members.xgboost.estimator"
    # One thread: XGBoost's two threads crawl when the test shares its two cores.
    cfg = compose_config(
        ["model=ensemble", "model.cv=3", f"{xgboost}.n_estimators=40", f"{xgboost}.n_jobs=1"]
    )
    model = model_spec(cfg).build()
    ensemble = model.steps[-1][1]
    assert isinstance(ensemble, Ensemble) and set(ensemble.members) == {
        "logistic_regression",
        "xgboost",
    }
    frame = MarketingSimulator(0).leads(3000)
    columns = Columns(
        id="lead_id", target="converted", time="created_at", oracle="p_convert", pii=["email"]
    )
    X, y = columns.features(frame), frame["converted"].to_numpy()
    model.fit(X, y)
    assert set(ensemble.weights_) == {"logistic_regression", "xgboost"}
    proba = model.predict_proba(X.head(200))[:, 1]
    assert roc_auc_score(y[:200], proba) > 0.6

    restored = cloudpickle.loads(cloudpickle.dumps(model))
    np.testing.assert_allclose(restored.predict_proba(X.head(200))[:, 1], proba)


def test_ensemble_run_logs_member_scores_and_weights(tmp_path) -> None:  # noqa: ANN001
    from growthlab.runner import run
    from tests.conftest import compose_config

    result = run(
        compose_config(
            [
                "model=ensemble",
                "dataset.n_rows=3000",
                "task.importance_rows=300",
                "registry.register=false",
                f"store={tmp_path}",
            ]
        )
    )
    for member in ("logistic_regression", "xgboost"):
        assert 0.5 < result.metrics[f"member_{member}_oof_roc_auc"] <= 1
        assert 0 <= result.metrics[f"member_{member}_weight"] <= 1


def test_stacking_handles_more_than_two_classes() -> None:
    """Sentiment's three classes: a multinomial meta-model on every member's probabilities."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = np.digitize(X["a"] + 0.5 * rng.normal(size=300), [-0.5, 0.5])
    members = {
        "plain": tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression()),
        "strong": tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression(C=0.01)),
    }
    model = Ensemble(members, method="stacking", cv=3).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3) and np.allclose(proba.sum(axis=1), 1)
    assert (model.predict(X) == y).mean() > 0.6
    assert sum(model.weights_.values()) == pytest.approx(1)
    with pytest.raises(ValueError, match="use method=stacking"):
        Ensemble(members, method="rank_average", cv=3).fit(X, y)


def test_stacking_class_weight_leans_the_meta_model_towards_a_class() -> None:
    """A weight on the middle class (neutral) makes the meta-model predict it more often,
    as scikit-learn's own weighted logistic regression does; a DictConfig-like mapping works."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=300)})
    y = np.digitize(X["a"] + rng.normal(size=300), [-0.3, 0.3])
    members = {"plain": tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression())}
    plain = Ensemble(members, method="stacking", cv=3).fit(X, y)
    leaning = Ensemble(members, method="stacking", cv=3, class_weight={"1": 3}).fit(X, y)
    assert leaning.meta_.class_weight == {1: 3.0}
    assert (leaning.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()


def three_classes(n: int = 300, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """A small middle class between two large ones, as neutral between negative and positive."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n)})
    return X, np.digitize(X["a"] + rng.normal(size=n), [-0.3, 0.3])


def test_stacking_class_weight_cv_picks_the_best_grid_weights_out_of_fold() -> None:
    """class_weight=cv scores every grid candidate by the meta-model's cross-validated F1 on
    the members' out-of-fold predictions; the pick beats equal weights there, and fitting
    with the picked weights given explicitly gives the same model."""
    X, y = three_classes()
    members = {"plain": tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression())}
    searched = Ensemble(members, method="stacking", cv=3, seed=2, class_weight="cv").fit(X, y)
    chosen = searched.class_weight_
    assert set(chosen) == {0, 1, 2} and chosen[0] == 1.0
    assert {chosen[1], chosen[2]} <= set(WEIGHT_GRID)
    features, folds = searched._meta_input(searched.oof_), PredefinedSplit(searched.fold_)
    equal = cross_val_predict(LogisticRegression(), features, y, cv=folds)
    assert searched.class_weight_score_ >= f1_score(y, equal, average="weighted") - 1e-12
    given = Ensemble(members, method="stacking", cv=3, seed=2, class_weight=chosen).fit(X, y)
    assert np.allclose(given.predict_proba(X), searched.predict_proba(X))
    assert searched.diagnostics()["meta_class_weight_1"] == chosen[1]


def test_stacking_class_weight_cv_may_maximise_macro_f1() -> None:
    X, y = three_classes(seed=4)
    members = {"plain": tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression())}
    model = Ensemble(
        members, method="stacking", cv=3, class_weight="cv", class_weight_metric="macro_f1"
    ).fit(X, y)
    folds = PredefinedSplit(model.fold_)
    predicted = cross_val_predict(
        LogisticRegression(class_weight=model.class_weight_), model._meta_input(model.oof_), y,
        cv=folds,
    )  # fmt: skip
    assert model.class_weight_score_ == pytest.approx(f1_score(y, predicted, average="macro"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"class_weight": "sometimes"}, "class_weight='sometimes'; use null, balanced, cv"),
        ({"class_weight": "cv", "class_weight_metric": "roc_auc"}, "use one of weighted_f1"),
    ],
)
def test_bad_class_weight_settings_are_refused_before_any_member_fits(
    settings: dict[str, str], message: str
) -> None:
    X, y = three_classes()
    LeakDetector.calls.clear()
    members = {"spy": LeakDetector("a")}
    with pytest.raises(ValueError, match=message):
        Ensemble(members, method="stacking", cv=3, **settings).fit(X.assign(row_id=X.index), y)
    assert LeakDetector.calls == []


def test_class_weight_cv_is_refused_beyond_five_classes() -> None:
    X, y = three_classes()
    y = np.arange(len(y)) % 6
    members = {"plain": tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression())}
    with pytest.raises(ValueError, match="searches up to 5 classes, not 6"):
        Ensemble(members, method="stacking", cv=3, class_weight="cv").fit(X, y)


def test_class_weight_is_a_categorical_search_space_choice() -> None:
    """A study may try class_weight=null / balanced / cv like any other model key."""
    spec = model_spec(compose_config(["task=sentiment", "model=text_ensemble"]))
    space = {"model.class_weight": {"type": "categorical", "choices": [None, "balanced", "cv"]}}
    (param,) = parse_space(space, spec.has)
    assert param.admits(spec.value("model.class_weight")) and param.admits("cv")
    assert spec.with_params({"model.class_weight": "cv"}).build()[-1].class_weight == "cv"
