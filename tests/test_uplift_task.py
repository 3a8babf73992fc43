"""Uplift end to end: run, gate against random and the response model, score, serve; bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from growthlab import handoff, registry
from growthlab.build import build
from growthlab.data.dataset import Columns
from growthlab.data.simulator import MarketingSimulator
from growthlab.errors import UserError
from growthlab.runner import RunResult, model_spec, run
from growthlab.tasks.uplift import Uplift
from tests.conftest import (
    compose_config,
    growthlab,
    one_line_error,
    run_statuses,
    score_file,
    store_overrides,
)

# A Qini is noisy: 20,000 test customers let the gate see the learner beat the response model.
SMALL = [
    "dataset.n_customers=50000",
    "task.valid_size=0.1",
    "task.test_size=0.4",
    "model.estimator.n_estimators=60",
]
NAME = "uplift-simulated_campaign"
SLOW = pytest.mark.slow  # a 50,000-customer campaign, trained once for the module: ~40 s
HIDDEN = ["treatment", "converted", "true_uplift", "response_type", "p_control", "p_treated"]


@pytest.fixture(scope="module")
def trained(module_store: Path) -> RunResult:
    return run(
        compose_config(["experiments=uplift_t_learner", *SMALL, *store_overrides(module_store)])
    )


@SLOW
def test_run_logs_uplift_metrics_beside_oracle_and_response_model(trained: RunResult) -> None:
    logged = MlflowClient().get_run(trained.run_id)
    metrics, params = logged.data.metrics, logged.data.params
    for split in ("valid", "test"):
        for name in ("qini", "qini_normalized", "auuc", "uplift_at_10pct", "uplift_at_30pct"):
            assert f"{split}_{name}" in metrics
        assert metrics[f"{split}_ate_low"] < metrics[f"{split}_ate"] < metrics[f"{split}_ate_high"]
        assert 0 < metrics[f"{split}_best_share"] <= 1 and metrics[f"{split}_best_profit"] > 0
        # A Qini is noisy: on a small split the model may even beat the oracle's.
        assert metrics[f"{split}_oracle_qini"] > 0 and metrics[f"{split}_qini"] > 0
    assert metrics["test_qini"] > metrics["test_response_model_qini"]
    assert params["data.split"] == "stratified_by_arm_and_outcome"
    assert float(params["data.propensity_auc"]) < 0.55  # the simulator's coin is fair
    client = MlflowClient()
    plots = {a.path for a in client.list_artifacts(trained.run_id, "plots")}
    tables = {a.path for a in client.list_artifacts(trained.run_id, "tables")}
    assert {"plots/test_qini.png", "plots/test_uplift_by_decile.png"} <= plots
    assert "plots/test_profit.png" in plots and "tables/test_uplift_deciles.csv" in tables


@SLOW
def test_pyfunc_scores_raw_customer_columns_without_an_arm(trained: RunResult) -> None:
    model = mlflow.pyfunc.load_model(registry.model_version(NAME, alias="challenger").uri)
    customers = MarketingSimulator(7).campaign(50).drop(columns=HIDDEN)
    counts = customers.select_dtypes("integer").columns  # the signature declares doubles
    out = model.predict(customers.astype(dict.fromkeys(counts, "float64")))
    assert list(out.columns) == ["uplift", "p_treated", "p_control", "treat"]
    np.testing.assert_allclose(out["uplift"], out["p_treated"] - out["p_control"], atol=1e-6)
    assert out["treat"].tolist() == (40.0 * out["uplift"] - 0.5 > 0).tolist()


@SLOW
def test_gate_beats_random_and_response_model_then_batch_scores(
    trained: RunResult, module_store: Path, tmp_path: Path
) -> None:
    base = ["experiments=uplift_t_learner", *store_overrides(module_store)]
    handoff.promote(compose_config([*base, "command=promote", "registry.gate.resamples=200"]))
    assert MlflowClient().get_registered_model(NAME).aliases["champion"] == 1
    (decision,) = registry.decisions(NAME)
    assert decision["verdict"] == "pass"
    assert {"random.qini", "response_model.qini"} <= set(decision["metrics"])
    source, target = tmp_path / "customers.csv", tmp_path / "targets.csv"
    MarketingSimulator(8).campaign(300).drop(columns=HIDDEN).to_csv(source, index=False)
    score_file(module_store, source, target, "experiments=uplift_t_learner")
    scored = pd.read_csv(target)
    assert len(scored) == 300
    assert {"customer_id", "uplift", "p_treated", "p_control", "treat", "decile"} <= set(scored)


@SLOW
def test_holdout_keeps_outcome_arm_and_both_baselines(trained: RunResult) -> None:
    task = handoff.task_of(trained.run_id)
    X, y = task.outcomes(task.holdout(trained.data), trained.data.schema)
    assert y.shape == (20000, 4)
    assert "treatment" not in X and set(np.unique(y[:, 1])) == {0.0, 1.0}
    assert set(task.baselines(y, X)) == {"random", "response_model"}


# --- arms and bad input ----------------------------------------------------------------------


def campaign(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    return (
        MarketingSimulator(seed)
        .campaign(n)
        .drop(columns=["response_type", "p_control", "p_treated", "true_uplift"])
    )


ROLES = {"id": "customer_id", "target": "converted", "treatment": "treatment"}


def prepare(frame: pd.DataFrame, **roles: object) -> object:
    return Uplift().prepare(frame, Columns.from_mapping({**ROLES, **roles}))


def test_arms_as_booleans_or_labels_become_0_1() -> None:
    frame = campaign()
    expected = frame["treatment"].to_numpy()
    as_bool = prepare(frame.assign(treatment=frame["treatment"] == 1))
    labelled = frame.assign(treatment=np.where(expected == 1, "email", "none"))
    for data in (as_bool, prepare(labelled, treated_label="email")):
        arms = np.concatenate([p.X["treatment"].to_numpy() for p in data.parts.values()])
        assert sorted(np.unique(arms)) == [0, 1] and arms.sum() == expected.sum()


def test_several_arms_compare_one_with_the_control() -> None:
    frame = campaign(3000)
    third = np.random.default_rng(0).random(len(frame)) < 0.3
    arms = np.where(third, "sms", np.where(frame["treatment"] == 1, "email", "none"))
    frame = frame.assign(treatment=arms)
    data = prepare(frame, treated_label="email", control_label="none")
    assert data.info["arm_rows"] == int((~third).sum())
    with pytest.raises(UserError, match="3 arms.*control_label"):
        prepare(frame)


BAD = {
    "no treatment declared": ({"treatment": None}, "dataset.columns.treatment"),
    "treatment missing from the data": ({"treatment": "got_email"}, "'got_email'"),
    "one arm only": ({"frame": lambda f: f.assign(treatment=1)}, "one arm only"),
    "no conversion in an arm": (
        {"frame": lambda f: f.assign(converted=np.where(f.treatment == 0, 0, f.converted))},
        "0 control customers",
    ),
    "control label absent": ({"control_label": "holdout"}, "control_label='holdout'"),
    "outcome not binary": ({"frame": lambda f: f.assign(converted=f.orders_12m)}, "binary"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line(case: str) -> None:
    roles, hint = BAD[case]
    roles = dict(roles)
    frame = roles.pop("frame", lambda f: f)(campaign())
    with pytest.raises(UserError, match=hint) as error:
        prepare(frame, **roles)
    assert "\n" not in str(error.value)


def test_cli_without_a_treatment_column_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "campaign.csv"
    campaign(500).to_csv(path, index=False)
    args = ["task=uplift", "model=t_learner", "dataset=file", f"dataset.path={path}"]
    line = one_line_error(growthlab(*args, "dataset.columns.target=converted", store=tmp_path))
    assert "dataset.columns.treatment" in line
    assert "RUNNING" not in run_statuses(tmp_path)


def test_a_campaign_that_chose_whom_to_contact_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    frame = campaign(3000)
    chosen = (frame["discount_share"] + 0.2 * np.random.default_rng(1).random(len(frame))) > 0.35
    with caplog.at_level(logging.WARNING, logger="growthlab"):
        data = prepare(frame.assign(treatment=chosen.astype(int)))
    assert data.info["propensity_auc"] > 0.8
    assert "propensity AUC" in caplog.text


@SLOW
def test_tuned_run_optimises_validation_qini_and_refits(module_store: Path) -> None:
    overrides = ["experiments=uplift_x_learner", "tuner=tpe", "tuner.n_trials=2"]
    small = ["dataset.n_customers=5000", "model.estimator.n_estimators=30"]
    result = run(
        compose_config(
            [*overrides, *small, "registry.register=false", *store_overrides(module_store)]
        )
    )
    logged = MlflowClient().get_run(result.run_id)
    assert "best_valid_qini" in logged.data.metrics and "test_qini" in logged.data.metrics
    assert logged.data.params["data.refit_on"] == "train+valid"


def test_class_transformation_answers_uplift_and_treat_only() -> None:
    cfg = compose_config(
        [
            "experiments=uplift_class_transformation",
            "dataset.n_customers=3000",
            "model.estimator.n_estimators=30",
            "model.estimator.n_jobs=1",
        ]
    )
    task, dataset = Uplift(), build(cfg.dataset, "dataset")
    data = task.prepare(dataset.load(), dataset.columns)
    model = task.fit(model_spec(cfg).build(), data)
    out = task.predict_frame(model, task.input_example(data), data.schema)
    assert list(out.columns) == ["uplift", "treat"]
    assert out["treat"].tolist() == (40.0 * out["uplift"] > 0.5).tolist()


def test_a_plain_classifier_is_refused_in_one_line() -> None:
    cfg = compose_config(["task=uplift", "dataset=simulated_campaign", "model=logistic_regression"])
    data = prepare(campaign())
    with pytest.raises(UserError, match="not an uplift learner.*model=s_learner"):
        Uplift().fit(model_spec(cfg).build(), data)


def test_gate_reads_outcome_and_arm_from_2d_y() -> None:
    """The gate's bootstrap resamples customers: rows of [outcome, arm, response, random]."""
    from growthlab.gate import Gate, passed

    frame = MarketingSimulator(2).campaign(20000)
    random = np.random.default_rng(0).random(len(frame))
    y = np.column_stack([frame.converted, frame.treatment, frame.p_treated, random])
    checks = Gate(resamples=200).judge(Uplift(), y, frame.true_uplift.to_numpy(), None)
    assert [(c.check, c.metric) for c in checks] == [("random", "qini"), ("response_model", "qini")]
    assert passed(checks)  # the true uplift beats both, beyond noise
    assert abs(checks[0].reference) < checks[1].reference < checks[1].challenger
