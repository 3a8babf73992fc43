"""The text column role: free text becomes bounded features inside the pipeline, in any task."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from growthlab.data.dataset import Columns
from growthlab.errors import UserError
from growthlab.models import tabular_pipeline
from growthlab.models.preprocessing import FrameEncoder
from growthlab.runner import run
from growthlab.tasks.lead_scoring import LeadScoring
from tests.conftest import compose_config, store_overrides

TICKETS = {  # invented ticket texts; the unhappy ones come from customers about to leave
    1: ["cancel my contract now", "third outage this week, I am leaving", "refund or I quit"],
    0: ["thanks for the quick help", "how do I add a user", "invoice address update please"],
}


def customer_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A churn table whose only strong signal is the tone of the last support ticket."""
    rng = np.random.default_rng(seed)
    churn = rng.random(n) < 0.3
    noisy = rng.random(n) < 0.15  # some tickets say the opposite of what happens
    tone = np.where(noisy, ~churn, churn).astype(int)
    tickets = [f"{rng.choice(TICKETS[t])} #{i % 7}" for i, t in enumerate(tone)]
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tenure_months": rng.integers(1, 60, n).astype(float),
            "plan": rng.choice(["basic", "pro"], n),
            "last_ticket": tickets,
            "churn": np.where(churn, "yes", "no"),
        }
    )


def test_linear_encoding_is_sparse_tfidf_with_a_bounded_width() -> None:
    X = customer_table().drop(columns=["customer_id", "churn"])
    encoder = FrameEncoder(one_hot=True, text=["last_ticket"], max_text_features=40).fit(X)
    out = encoder.transform(X)
    assert sparse.issparse(out)
    names = encoder.get_feature_names_out()
    assert out.shape[1] == len(names) <= 40 + 3 + 1  # n-grams, plan levels + missing, tenure
    assert not any(name.startswith("last_ticket=") for name in names)  # never a category


def test_tree_encoding_is_a_compact_svd_summary() -> None:
    X = customer_table().drop(columns=["customer_id", "churn"])
    encoder = FrameEncoder(one_hot=False, text=["last_ticket"], svd_components=5).fit(X)
    out = encoder.transform(X.head(3))
    assert list(out.columns) == [
        "tenure_months", "plan", *[f"last_ticket__svd{i}" for i in range(5)]
    ]  # fmt: skip
    assert out.filter(like="svd").dtypes.eq(float).all()
    unseen = X.head(2).assign(last_ticket=["never seen words", None])
    assert np.isfinite(encoder.transform(unseen).filter(like="svd").to_numpy()).all()


def test_blank_text_column_and_tfidf_for_trees_are_one_line_errors() -> None:
    X = customer_table().drop(columns=["customer_id", "churn"])
    with pytest.raises(UserError, match="'last_ticket' is empty or blank in every row"):
        FrameEncoder(one_hot=True, text=["last_ticket"]).fit(X.assign(last_ticket="  "))
    with pytest.raises(UserError, match="text_features=\\[svd\\]"):
        FrameEncoder(one_hot=False, text=["last_ticket"], text_features=["tfidf"]).fit(X)


def test_lead_scoring_learns_from_a_text_column() -> None:
    table = customer_table(600).rename(columns={"churn": "converted"})
    columns = Columns(
        id="customer_id", target="converted", positive_label="yes", text=["last_ticket"]
    )
    task = LeadScoring(importance_rows=100, seed=0)
    data = task.prepare(table, columns)

    model = tabular_pipeline(
        FrameEncoder(one_hot=True, text=columns.text), LogisticRegression(max_iter=1000)
    )
    task.fit(model, data)
    assert task.score(model, data.parts["test"])["roc_auc"] > 0.75


def test_churn_table_with_a_text_column_end_to_end(tmp_path: Path, store: Path) -> None:
    """make train EXP=churn_xgboost_table ARGS="dataset.columns.text=[last_ticket]"."""
    path = tmp_path / "customers.csv"
    customer_table().to_csv(path, index=False)
    result = run(
        compose_config(
            [
                "experiments=churn_xgboost_table",
                "dataset=file",
                f"dataset.path={path}",
                "dataset.name=customers",
                "dataset.columns.target=churn",
                "dataset.columns.positive_label=yes",
                "dataset.columns.id=customer_id",
                "dataset.columns.text=[last_ticket]",
                "model.n_estimators=30",
                "model.n_jobs=1",
                "task.importance_rows=100",
                *store_overrides(store),
            ]
        )
    )
    assert MlflowClient().get_run(result.run_id).data.metrics["test_roc_auc"] > 0.75
    served = mlflow.pyfunc.load_model(result.model_uri)
    raw = customer_table(5, seed=1).drop(columns=["churn"])  # raw columns, text included
    assert served.predict(raw)["score"].between(0, 1).all()
