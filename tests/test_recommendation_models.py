"""Recommenders: the shared contract, their maths, and beating popularity on planted tastes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics.pairwise import cosine_similarity

from growthlab.data.dataset import Columns
from growthlab.data.simulator import INTERACTIONS_COLUMNS, MarketingSimulator
from growthlab.errors import UserError
from growthlab.metrics.ranking import mean_metrics
from growthlab.models.recommenders import ALS, BPR, EASE, ItemKNN, Popularity, Recommender
from growthlab.tasks import Prepared
from growthlab.tasks.recommendation import Recommendation

TOY = pd.DataFrame(
    {
        "user": ["u1", "u1", "u2", "u2", "u2", "u3", "u4"],
        "item": [10, 20, 10, 30, 40, 10, 20],
    }
)
MODELS = [
    Popularity(),
    ItemKNN(neighbours=5),
    EASE(l2=1.0),
    ALS(factors=4, iterations=3),
    BPR(factors=4, iterations=5),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_contract_unseen_items_unknown_users_and_clone(model: object) -> None:
    fitted = clone(model).fit(TOY)
    assert list(fitted.users_) == ["u1", "u2", "u3", "u4"] and fitted.matrix_.shape == (4, 4)
    lists = fitted.recommend(["u1", "u2", "stranger"], k=3)
    assert not {10, 20} & set(lists[0]) and len(lists[0]) == 2  # only 30 and 40 are new to u1
    assert lists[1] == [20]  # u2 has everything else
    assert lists[2] == [10, 20, 30]  # an unknown user gets the popular items
    assert len(fitted.recommend(["u3"], k=10)[0]) == 3  # k is capped by the catalogue
    assert fitted.recommend(["u1"], k=2, exclude_seen=False)[0] != []
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(UserError, match="positive integer"):
        fitted.recommend(["u1"], k=0)


def test_popularity_ranks_by_buyers_or_by_weight() -> None:
    frame = pd.DataFrame({"u": [1, 2, 3, 1], "i": ["a", "a", "b", "c"]})
    assert Popularity().fit(frame).popular(3) == ["a", "b", "c"]
    weights = np.array([1, 1, 1, 9])
    assert Popularity(binary=False).fit(frame, weights).popular(3) == ["c", "a", "b"]


def test_ease_weights_are_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    X = (rng.random((60, 12)) < 0.3).astype(float)
    users, items = np.nonzero(X)
    model = EASE(l2=5.0).fit(pd.DataFrame({"u": users, "i": items}))
    order = model.items_.to_numpy()
    X = X[:, order][model.users_.to_numpy()]
    P = np.linalg.inv(X.T @ X + 5.0 * np.eye(12))
    B = np.eye(12) - P / np.diag(P)
    np.testing.assert_allclose(model.weights_, B, atol=1e-4)
    assert np.all(np.diag(model.weights_) == 0)
    assert model.weights_.flags.c_contiguous  # sparse @ dense copies a Fortran array per call


def test_item_knn_is_cosine_with_shrinkage_and_top_neighbours() -> None:
    rng = np.random.default_rng(1)
    X = (rng.random((80, 15)) < 0.3).astype(float)
    users, items = np.nonzero(X)
    frame = pd.DataFrame({"u": users, "i": items})
    model = ItemKNN(neighbours=100, shrinkage=0.0).fit(frame)
    X = X[:, model.items_.to_numpy()]
    expected = cosine_similarity(X.T)
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, atol=1e-6)
    norms = np.linalg.norm(X, axis=0)
    shrunk = ItemKNN(neighbours=100, shrinkage=5.0).fit(frame).similarity_.toarray()
    dots = X.T @ X
    np.fill_diagonal(dots, 0)
    np.testing.assert_allclose(shrunk, dots / (np.outer(norms, norms) + 5.0), atol=1e-6)
    pruned = ItemKNN(neighbours=3, shrinkage=0.0).fit(frame).similarity_
    assert (np.diff(pruned.T.tocsr().indptr) <= 3).all()  # each item keeps 3 neighbours


def test_bad_hyperparameters_are_user_errors() -> None:
    with pytest.raises(UserError, match="l2"):
        EASE(l2=0).fit(TOY)
    with pytest.raises(UserError, match="neighbours"):
        ItemKNN(neighbours=0).fit(TOY)
    with pytest.raises(UserError, match="user, item"):
        Popularity().fit(TOY.head(0))


@pytest.fixture(scope="module")
def planted() -> Prepared:
    purchases = MarketingSimulator(7).interactions(2500, 200)
    return Recommendation().prepare(purchases, Columns.from_mapping(INTERACTIONS_COLUMNS))


def test_ease_and_als_beat_popularity_on_planted_tastes(planted: Prepared) -> None:
    train, test = planted.parts["train"], planted.parts["test"]
    relevant = test.X.groupby("customer_id").product_id.agg(list)
    ndcg = {}
    for model in (
        Popularity(),
        EASE(l2=200.0),
        ALS(factors=16, regularization=1.0, alpha=5.0),
        ItemKNN(),
        BPR(factors=32, learning_rate=0.01),
    ):
        lists = model.fit(train.X, train.y).recommend(relevant.index, 10)
        ndcg[type(model).__name__] = mean_metrics(list(relevant), lists, 10)["ndcg_at_10"]
    base = ndcg.pop("Popularity")
    assert ndcg["EASE"] > 1.5 * base, ndcg
    assert ndcg["ALS"] > 1.3 * base, ndcg
    assert ndcg["ItemKNN"] > 1.3 * base, ndcg
    assert ndcg["BPR"] > base, ndcg


def test_popularity_shortcut_equals_generic_scoring() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"u": rng.integers(0, 300, 4000), "i": rng.zipf(1.3, 4000) % 80})
    model = Popularity().fit(frame)
    rows = model.users_.get_indexer(model.users_)
    generic, valid = Recommender._top(model, rows, 10, True)
    fast, fast_valid = model._top(rows, 10, True)
    # The same popularity at every rank (items of equal popularity may swap places).
    scores = model.popular_scores_
    for g, v, f, fv in zip(generic, valid, fast, fast_valid, strict=True):
        assert scores[g[v]].tolist() == scores[f[fv]].tolist()
    seen = [set(model.matrix_[r].indices) for r in rows]
    assert all(not set(f[fv]) & s for f, fv, s in zip(fast, fast_valid, seen, strict=True))
