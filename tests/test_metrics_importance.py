"""Permutation importance: the same figures as scikit-learn's, from batched predict calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance as sklearn_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from growthlab.metrics.importance import permutation_importance
from growthlab.models.preprocessing import FrameEncoder


def _fitted() -> tuple[object, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(
        {
            "visits": rng.poisson(4, 400).astype(float),
            "channel": rng.choice(["email", "search", "social"], 400),
            "noise": rng.normal(size=400),
        }
    )
    logit = 0.6 * X["visits"] - 2.5 + (X["channel"] == "search") * 1.2
    y = (rng.random(400) < 1 / (1 + np.exp(-logit))).astype(int)
    model = make_pipeline(FrameEncoder(one_hot=True), LogisticRegression()).fit(X, y)
    return model, X, y


@pytest.mark.parametrize("batch_rows", [1, 1000, 100_000])
def test_equals_scikit_learn_on_the_same_shuffles(batch_rows: int) -> None:
    model, X, y = _fitted()
    ours = permutation_importance(
        lambda frame: model.predict_proba(frame)[:, 1],
        X,
        y,
        roc_auc_score,
        n_repeats=4,
        seed=7,
        batch_rows=batch_rows,
    ).set_index("feature")
    theirs = sklearn_importance(model, X, y, scoring="roc_auc", n_repeats=4, random_state=7)
    for i, column in enumerate(X.columns):
        assert ours.loc[column, "importance"] == pytest.approx(
            theirs.importances_mean[i], abs=1e-12
        )
        assert ours.loc[column, "std"] == pytest.approx(theirs.importances_std[i], abs=1e-12)
    assert list(ours.index) == list(X.columns[np.argsort(-theirs.importances_mean, kind="stable")])


def test_a_column_the_model_ignores_costs_nothing() -> None:
    X = pd.DataFrame({"used": [0.1, 0.4, 0.35, 0.8, 0.9, 0.2], "ignored": list("abcdef")})
    y = np.array([0, 0, 1, 1, 1, 0])
    table = permutation_importance(
        lambda frame: frame["used"].to_numpy(), X, y, roc_auc_score, n_repeats=3
    ).set_index("feature")
    assert table.loc["ignored", "importance"] == 0.0
    assert table.loc["ignored", "std"] == 0.0
    assert table.loc["used", "importance"] > 0


def test_no_columns_give_an_empty_table() -> None:
    table = permutation_importance(
        lambda frame: np.zeros(len(frame)),
        pd.DataFrame(index=range(4)),
        np.array([0, 1, 0, 1]),
        roc_auc_score,
    )
    assert table.empty and list(table.columns) == ["feature", "importance", "std"]
