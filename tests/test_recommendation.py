"""Recommendation end to end: run, register, reload, gate against popularity, score, tune."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from growthlab import handoff, registry
from growthlab.errors import UserError
from growthlab.runner import RunResult, run
from tests.conftest import (
    SHARED_DATA,
    compose_config,
    growthlab,
    one_line_error,
    run_statuses,
    score_file,
    store_overrides,
)

SMALL = ["dataset.n_customers=1500", "dataset.n_products=150"]
NAME = "recommendation-simulated_interactions"


@pytest.fixture(scope="module")
def trained(module_store: Path) -> RunResult:
    return run(
        compose_config(["experiments=recommendation_ease", *SMALL, *store_overrides(module_store)])
    )


def test_run_logs_metrics_at_k_beside_popularity(trained: RunResult) -> None:
    logged = MlflowClient().get_run(trained.run_id)
    metrics, params = logged.data.metrics, logged.data.params
    for split in ("valid", "test"):
        for name in ("precision", "recall", "ndcg", "map", "hit_rate"):
            assert 0 <= metrics[f"{split}_{name}_at_10"] <= 1
        assert 0 < metrics[f"{split}_catalogue_coverage"] <= 1
    assert metrics["test_ndcg_at_10"] > 1.3 * metrics["test_popularity_ndcg_at_10"]
    assert metrics["test_novelty"] > metrics["test_popularity_novelty"]
    assert params["data.split"] == "leave_last_out_by_time"
    assert params["data.item_attributes"] == "category"
    client = MlflowClient()
    plots = {a.path for a in client.list_artifacts(trained.run_id, "plots")}
    tables = {a.path for a in client.list_artifacts(trained.run_id, "tables")}
    assert {"plots/test_metrics_at_k.png", "plots/test_long_tail.png"} <= plots
    assert {"tables/test_recommended_items.csv", "tables/test_coverage_by_category.csv"} <= tables


def test_registered_pyfunc_takes_users_and_k(trained: RunResult) -> None:
    version = registry.model_version(NAME, alias=registry.CHALLENGER)
    model = mlflow.pyfunc.load_model(version.uri)
    train = trained.data.parts["train"].X
    user = int(train.customer_id.iloc[0])
    out = model.predict(pd.DataFrame({"customer_id": [user, 10**9]}))
    assert list(out.columns) == ["customer_id", "items"]
    own = set(train[train.customer_id == user].product_id)
    assert len(out["items"][0]) == 10 and not own & set(out["items"][0])
    popular = trained.model[-1].popular(10)
    assert list(out["items"][1]) == popular  # an unknown user gets the popular items
    short = model.predict(pd.DataFrame({"customer_id": [user]}), params={"k": 3})
    assert list(short["items"][0]) == list(out["items"][0])[:3]


def test_promotion_beats_popularity_and_batch_scores_users(
    trained: RunResult, module_store: Path, tmp_path: Path
) -> None:
    base = ["experiments=recommendation_ease", *store_overrides(module_store)]
    # Coverage needs the training data: its floor is read from the version's test metrics.
    floors = "registry.gate.floors={catalogue_coverage: 0.05}"
    handoff.promote(
        compose_config([*base, "command=promote", "registry.gate.resamples=200", floors])
    )
    assert MlflowClient().get_registered_model(NAME).aliases["champion"] == 1
    (decision,) = registry.decisions(NAME)
    assert decision["verdict"] == "pass" and "baseline.ndcg_at_10" in decision["metrics"]
    recorded = MlflowClient().get_run(trained.run_id).data.metrics["test_catalogue_coverage"]
    assert decision["metrics"]["floor.catalogue_coverage"] == pytest.approx(recorded, abs=1e-6)
    source, target = tmp_path / "users.csv", tmp_path / "recommendations.csv"
    pd.DataFrame({"customer_id": [1, 2, 3, 10**9], "region": list("abcd")}).to_csv(source)
    score_file(module_store, source, target, "experiments=recommendation_ease")
    scored = pd.read_csv(target)
    assert len(scored) == 4 and {"region", "customer_id", "items"} <= set(scored.columns)
    assert scored["items"].iloc[3] == str(trained.model[-1].popular(10))


def test_tuned_run_refits_on_train_and_valid(module_store: Path) -> None:
    result = run(
        compose_config(
            [
                "experiments=recommendation_als",
                "tuner=tpe",
                "tuner.n_trials=3",
                "registry.register=false",
                *SMALL,
                *store_overrides(module_store),
            ]
        )
    )
    logged = MlflowClient().get_run(result.run_id)
    assert "best_valid_ndcg_at_10" in logged.data.metrics
    assert logged.data.params["data.refit_on"] == "train+valid"
    assert (
        logged.data.metrics["test_ndcg_at_10"] > logged.data.metrics["test_popularity_ndcg_at_10"]
    )
    children = MlflowClient().search_runs(
        [logged.info.experiment_id], f"tags.mlflow.parentRunId = '{result.run_id}'"
    )
    assert len(children) == 3


@pytest.mark.skipif(
    not (SHARED_DATA / "scotch_brand_usage_long.csv").exists(), reason="../shared/data absent"
)
def test_scotch_brands_tuned_and_gated(module_store: Path) -> None:
    overrides = [
        "experiments=recommendation_ease_scotch",
        "tuner.n_trials=4",
        *store_overrides(module_store),
    ]
    result = run(compose_config(overrides))
    metrics = MlflowClient().get_run(result.run_id).data.metrics
    assert metrics["test_catalogue_coverage"] > 0 and "test_popularity_ndcg_at_5" in metrics
    assert (
        MlflowClient().get_run(result.run_id).data.params["data.split"] == "random_holdout_per_user"
    )
    try:  # a survey of 21 brands: the gate decides, either way it is recorded
        handoff.promote(compose_config([*overrides, "command=promote"]))
    except UserError as exc:
        assert "did not pass the gate" in str(exc)
    (decision,) = registry.decisions("recommendation-scotch_brands")
    assert "baseline.ndcg_at_5" in decision["metrics"]


CLI_CASES = {
    "user column missing from the data": (["dataset.columns.user=buyer"], "'buyer'"),
    "no user role": (["dataset.columns.user=null"], "dataset.columns.user"),
    "too few interactions after the filter": (["task.min_interactions=400"], "min_interactions"),
    "k not positive": (["task.k=0"], "task.k"),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_bad_input_is_one_line_and_no_running_run(case: str, tmp_path: Path) -> None:
    args, hint = CLI_CASES[case]
    line = one_line_error(
        growthlab("experiments=recommendation_ease", *SMALL, *args, store=tmp_path)
    )
    assert hint in line
    assert "RUNNING" not in run_statuses(tmp_path)


def test_holdout_units_are_test_users(trained: RunResult) -> None:
    task = handoff.task_of(trained.run_id)
    holdout = task.holdout(trained.data)
    X, y = task.outcomes(holdout, trained.data.schema)
    test = trained.data.parts["test"].X
    assert list(X.columns) == ["customer_id"] and len(X) == test.customer_id.nunique()
    assert y.shape == (len(X), 2) and all(len(p) == 10 for p in y[:, 1])
    train = trained.data.parts["train"].X
    seen = train.groupby("customer_id").product_id.agg(set)
    assert all(not set(p) & seen[u] for u, p in zip(X.customer_id, y[:, 1], strict=True))
    assert np.isfinite(task.metric_function("ndcg_at_10")(y, y[:, 1]))
