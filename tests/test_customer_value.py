"""Customer value end to end: train on a log, tune, promote through the gate, score a log."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression

from growthlab import handoff
from growthlab.build import build
from growthlab.data.dataset import Columns
from growthlab.data.simulator import MarketingSimulator
from growthlab.data.snapshots import log_roles
from growthlab.errors import UserError
from growthlab.models.btyd import BetaGeoGammaGamma, expected_spend
from growthlab.models.customer_value import SpendAndPurchases
from growthlab.runner import RunResult, run
from growthlab.tasks.customer_value import CustomerValue
from tests.conftest import compose_config, growthlab, one_line_error, score_file, store_overrides

EXPERIMENT = "experiments=customer_value_xgboost"
FAST = [
    "dataset.n_customers=2500",
    "model.n_estimators=60",
    "model.learning_rate=0.2",
    "model.n_jobs=1",
]
LOG = Columns(id="customer_id", time="timestamp", amount="amount", channel="channel")


@pytest.fixture(scope="module")
def value_run(module_store: Path) -> RunResult:
    return run(compose_config([EXPERIMENT, *FAST, *store_overrides(module_store)]))


def test_out_of_time_by_cutoff_with_both_baselines_beside(value_run: RunResult) -> None:
    logged = MlflowClient().get_run(value_run.run_id)
    params, metrics = logged.data.params, logged.data.metrics
    assert params["data.split"] == "out_of_time_cutoffs"
    cutoffs = params["data.cutoffs"].split(",")
    assert len(cutoffs) == 13 and cutoffs == sorted(cutoffs)
    assert params["data.test_start"].startswith(cutoffs[-1])
    assert params["data.valid_start"].startswith(cutoffs[-2])
    assert params["data.train_end"] < params["data.valid_start"]
    for split in ("valid", "test"):
        for prefix in ("", "bgnbd_", "naive_"):
            for name in (
                "mae",
                "rmse",
                "normalized_gini",
                "aggregate_error_pct",
                "value_captured_at_10pct",
                "value_captured_at_20pct",
            ):
                assert f"{split}_{prefix}{name}" in metrics
    assert metrics["test_normalized_gini"] > metrics["test_naive_normalized_gini"]
    assert metrics["test_mae"] < metrics["test_naive_mae"]


def test_calibration_tiers_and_gains_are_logged(value_run: RunResult) -> None:
    client = MlflowClient()
    plots = {a.path for a in client.list_artifacts(value_run.run_id, "plots")}
    tables = {a.path for a in client.list_artifacts(value_run.run_id, "tables")}
    for name in ("test_value_calibration", "test_value_tiers", "test_value_gains"):
        assert f"plots/{name}.png" in plots
    assert {"tables/test_value_calibration.csv", "tables/test_value_tiers.csv"} <= tables


def test_pyfunc_answers_value_purchases_and_tier(value_run: RunResult) -> None:
    test = value_run.data.parts["test"]
    assert "recency_days" in test.X and "cutoff_month" in test.X
    assert "customer_id" not in test.X and "naive_spend" not in test.X
    assert not {"future_spend", "future_purchases", "cutoff"} & set(test.X)  # no target leaks
    cutoff = pd.Timestamp(MlflowClient().get_run(value_run.run_id).data.params["data.test_start"])
    assert (test.X["cutoff_month"] == cutoff.month).all()  # the season is the cutoff's month
    served = mlflow.pyfunc.load_model(value_run.model_uri).predict(test.X)
    assert list(served.columns) == ["value", "purchases", "tier"]
    np.testing.assert_allclose(served["value"], value_run.model.predict(test.X), rtol=1e-6)
    assert (served["value"] >= 0).all() and (served["purchases"] >= 0).all()
    assert set(served["tier"]) <= set("ABCD")
    order = served.sort_values("value", ascending=False)["tier"].to_numpy()
    assert list(order) == sorted(order)  # tiers follow the value
    # Purchases come from a second regressor and track the actual counts.
    assert np.corrcoef(served["purchases"], test.y[:, 3])[0, 1] > 0.5


def test_gate_judges_both_baselines_on_gini_and_mae(
    value_run: RunResult, module_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = handoff.task_of(value_run.run_id)
    holdout = task.holdout(value_run.data)
    X, y = task.outcomes(holdout, value_run.data.schema)
    assert set(task.baselines(y, X)) == {"bgnbd_gamma_gamma", "naive"}
    np.testing.assert_allclose(y[:, 0], value_run.data.parts["test"].y[:, 0])
    cfg = compose_config(
        [
            EXPERIMENT,
            "command=promote",
            "registry.gate.resamples=200",
            *store_overrides(module_store),
        ]
    )
    try:
        handoff.promote(cfg)
    except UserError as exc:  # a small log may not beat BG/NBD beyond noise: the gate says so
        assert "did not pass the gate" in str(exc)
        forced = ["registry.force=true", "registry.reason=test", "command=promote"]
        handoff.promote(compose_config([EXPERIMENT, *forced, *store_overrides(module_store)]))
    verdict = capsys.readouterr().out
    for check in ("bgnbd_gamma_gamma", "naive"):
        for metric in ("normalized_gini", "mae"):
            assert any(check in line and metric in line for line in verdict.splitlines())
    assert MlflowClient().get_registered_model(cfg.registry.model_name).aliases["champion"] == 1


def test_score_a_log_at_a_cutoff(value_run: RunResult, module_store: Path, tmp_path: Path) -> None:
    log = MarketingSimulator(11).transactions(800, start="2023-01-01", days=900)
    source, target = tmp_path / "log.csv", tmp_path / "value.csv"
    log.to_csv(source, index=False)
    score_file(
        module_store,
        source,
        target,
        EXPERIMENT,
        "registry.alias=challenger",
        "registry.scoring.cutoff=2025-03-01",
    )
    scores = pd.read_csv(target)
    assert list(scores.columns) == [
        "customer_id",
        "cutoff",
        "value",
        "purchases",
        "tier",
        "decile",
        "model_version",
    ]
    assert set(scores.customer_id) == set(log[log.timestamp < "2025-03-01"].customer_id)


@pytest.mark.slow
def test_tuning_a_few_trials(tmp_path: Path) -> None:
    cfg = compose_config(
        [
            EXPERIMENT,
            "tuner=tpe",
            "tuner.n_trials=3",
            "tuner.progress=false",
            "dataset.n_customers=600",
            "dataset.days=700",
            "model.n_jobs=1",
            *store_overrides(tmp_path),
        ]
    )
    cfg.search_space["model.n_estimators"] = {"type": "int", "low": 10, "high": 40, "step": 10}
    result = run(cfg)
    assert "best_valid_normalized_gini" in result.metrics
    assert "test_normalized_gini" in result.metrics


def test_bgnbd_experiment_counts_purchases_itself(tmp_path: Path) -> None:
    overrides = ["experiments=customer_value_bgnbd", "dataset.n_customers=600", "dataset.days=700"]
    result = run(
        compose_config([*overrides, "registry.register=false", *store_overrides(tmp_path)])
    )
    assert result.model.purchases_ is None  # BG/NBD's own expected purchases, no second fit
    served = mlflow.pyfunc.load_model(result.model_uri).predict(result.data.parts["test"].X)
    assert list(served.columns) == ["value", "purchases", "tier"]


# --- pieces -----------------------------------------------------------------------------------


def test_tiers_by_hand() -> None:
    X = pd.DataFrame({"v": np.arange(10, dtype=float)})
    y = np.column_stack([X["v"], X["v"] / 10])
    model = SpendAndPurchases(LinearRegression(), tier_cuts=(0.1, 0.3, 0.6)).fit(X, y)
    np.testing.assert_allclose(model.tier_values_, [9.0, 7.0, 4.0], atol=1e-9)
    tiers = model.tiers(np.array([10.0, 9.5, 8.5, 7.5, 6.0, 4.5, 3.9, 0.0]))
    assert list(tiers) == ["A", "A", "B", "B", "C", "C", "D", "D"]
    assert list(model.tiers(np.array(model.tier_values_))) == ["A", "B", "C"]  # a cut: upper tier
    np.testing.assert_allclose(model.predict_purchases(X), X["v"] / 10, atol=1e-9)


def test_btyd_purchases_times_spend_per_purchase_is_its_value() -> None:
    log = MarketingSimulator(4).transactions(400, start="2023-01-01", days=700)
    table = CustomerValue().snapshots(log, log_roles(LOG), [pd.Timestamp("2024-06-01")])
    X = CustomerValue.features(table, "customer_id")
    model = BetaGeoGammaGamma().fit(X)
    per_purchase = expected_spend(model.gamma_gamma_, X["frequency_total"], X["avg_amount"])
    np.testing.assert_allclose(model.predict(X), model.predict_purchases(X) * per_purchase)
    assert (model.predict_purchases(X) > 0).all()


# --- bad input: one line each -----------------------------------------------------------------


def simulated_log(n: int = 300, days: int = 700) -> pd.DataFrame:
    return MarketingSimulator(5).transactions(n, start="2023-01-01", days=days)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda log: log.assign(amount=log["amount"].where(log.index != 7, -3.0)), "negative"),
        (lambda log: log.assign(amount=log["amount"].where(log.index != 7, np.nan)), "missing"),
        (lambda log: log.drop_duplicates("customer_id"), "one purchase"),
    ],
    ids=["negative_amount", "missing_amount", "all_one_purchase"],
)
def test_bad_logs_are_one_line(change: object, message: str) -> None:
    task = CustomerValue(n_cutoffs=3)
    with pytest.raises(UserError, match=message) as caught:
        task.prepare(change(simulated_log()), LOG)  # type: ignore[operator]
    assert "\n" not in str(caught.value)


def test_horizon_past_the_data_is_one_line() -> None:
    with pytest.raises(UserError, match="horizon_days=400 reaches past the data") as caught:
        CustomerValue(horizon_days=400, n_cutoffs=3).prepare(simulated_log(days=300), LOG)
    assert "\n" not in str(caught.value)


@pytest.mark.slow  # a subprocess: ~20 s of imports
def test_a_customer_table_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    pd.DataFrame({"customer": range(60), "spend": 1.0}).to_csv(path, index=False)
    done = growthlab(
        "task=customer_value",
        "dataset=file",
        f"dataset.path={path}",
        "model=xgboost_regressor",
        store=tmp_path / "mlruns",
    )
    assert "needs a transaction log" in one_line_error(done)


def test_task_config_builds() -> None:
    task = build(compose_config([EXPERIMENT]).task, "task")
    assert task.gate_metrics == ("normalized_gini", "mae") and "mae" in task.minimized


def test_a_classifier_is_refused_in_one_line() -> None:
    from sklearn.linear_model import LogisticRegression

    from growthlab.tasks.customer_value import _regressor

    with pytest.raises(UserError, match="model=xgboost_regressor"):
        _regressor(LogisticRegression())
