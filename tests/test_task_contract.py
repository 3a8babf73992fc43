"""Every task config through the whole Task interface, on a tiny dataset of its own.

A new task fails here, in one clear test, when it forgets a member or breaks a promise of the
contract (tasks/base.py): prepare returns what it learned and leaves the task unchanged, the
served model needs only the pipeline, the schema and the output adapter.
"""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

from growthlab.build import build
from growthlab.paths import CONF_DIR
from growthlab.runner import model_spec
from growthlab.tasks import Evaluation, Prepared, Task
from tests.conftest import compose_config

# Per task: a small dataset of its shape and a fast model. A new conf/task/*.yaml needs a line.
TINY = {
    "lead_scoring": ["dataset.n_rows=800", "model=logistic_regression", "task.importance_rows=100"],
    "churn": [
        "dataset=simulated_transactions",
        "dataset.n_customers=600",
        "dataset.days=700",
        "model=logistic_regression",
        "task.importance_rows=100",
    ],
    "customer_value": [
        "dataset=simulated_transactions",
        "dataset.n_customers=600",
        "dataset.days=700",
        "model=xgboost_regressor",
        "model.n_estimators=30",
        "model.n_jobs=1",
    ],
    "segmentation": [
        "dataset=simulated_customer_profiles",
        "dataset.n_customers=400",
        "model=kmeans",
        "task.stability_resamples=2",
    ],
    "forecast": [
        "dataset=simulated_revenue",
        "dataset.n_regions=1",
        "dataset.days=200",
        "task.horizon=7",
        "model=seasonal_naive",
    ],
    "sentiment": [
        "dataset=simulated_reviews",
        "dataset.n_rows=300",
        "model=text_tfidf_logistic",
        "preprocessing.max_text_features=500",
    ],
    "recommendation": [
        "dataset=simulated_interactions",
        "dataset.n_customers=300",
        "dataset.n_products=60",
        "model=popularity",
    ],
    "uplift": [
        "dataset=simulated_campaign",
        "dataset.n_customers=3000",
        "model=t_learner",
        "model.estimator.n_estimators=30",
        "model.estimator.n_jobs=1",
    ],
}
TASKS = sorted(p.stem for p in (CONF_DIR / "task").glob("*.yaml"))


def test_every_task_config_has_a_tiny_dataset() -> None:
    missing = sorted(set(TASKS) - set(TINY))
    assert not missing, f"add a tiny dataset for {missing} to TINY in {__file__}"


@pytest.mark.parametrize("name", TASKS)
def test_task_fulfils_the_contract(name: str) -> None:
    cfg = compose_config([f"task={name}", *TINY[name]])
    task = build(cfg.task, "task")
    assert isinstance(task, Task), f"{type(task).__name__} must subclass growthlab.tasks.Task"
    for attribute in ("name", "objective", "output", "output_column"):
        assert getattr(task, attribute, None), f"{name}: set {attribute}"
    assert task.objective in task.metric_names()
    dataset = build(cfg.dataset, "dataset")
    models = model_spec(cfg)
    settings = pickle.dumps(task)

    data = task.prepare(dataset.load(), dataset.columns)
    assert isinstance(data, Prepared)
    assert pickle.dumps(task) == settings, "prepare() must return what it learns, not set it"
    json.dumps(data.schema)  # plain values only: the served model keeps them

    model = task.fit(models.build(), data)
    validated = task.validate(models.build, data)
    missing = set(task.metric_names()) - set(validated)
    assert not missing, f"validate() lacks metrics tuning may optimise: {missing}"
    evaluation = task.evaluate(model, data, ("valid", "test"))
    assert isinstance(evaluation, Evaluation)
    assert f"test_{task.objective}" in evaluation.metrics

    example = task.input_example(data)
    served = task.predict_frame(model, example, data.schema)
    assert task.output_column in served

    X, y = task.outcomes(task.holdout(data), data.schema)
    predictions = task.predict_frame(model, X, data.schema)[task.output_column].to_numpy()
    assert len(predictions) == len(y)
    metrics = task.metrics_of(y, predictions)
    assert task.objective in metrics
    assert task.metric_function(task.objective)(y, predictions) == pytest.approx(
        metrics[task.objective], rel=1e-6, nan_ok=True
    )
    baseline = task.baseline_scores(y, X)
    assert baseline is None or len(baseline) == len(y)
    groups = task.bootstrap_groups(y)
    assert groups is None or len(groups) == len(y)


def test_the_served_model_answers_like_the_task() -> None:
    """The pyfunc holds the pipeline, the schema and the adapter's name, and answers the same."""
    from growthlab.tracking import FramePredictor

    cfg = compose_config(["task=lead_scoring", *TINY["lead_scoring"]])
    task, dataset = build(cfg.task, "task"), build(cfg.dataset, "dataset")
    data = task.prepare(dataset.load(), dataset.columns)
    model = task.fit(model_spec(cfg).build(), data)
    predictor = FramePredictor(model, data.schema, task.output)
    X = data.parts["test"].X
    pd.testing.assert_frame_equal(
        predictor.predict(None, X), task.predict_frame(model, X, data.schema)
    )
    assert "task" not in vars(predictor)


def test_a_task_missing_a_member_fails_when_built() -> None:
    class Unfinished(Task):
        name, objective, output, output_column = "unfinished", "x", "scores", "score"

        def prepare(self, frame, columns):  # noqa: ANN001, ANN201
            raise NotImplementedError

    with pytest.raises(TypeError, match="abstract"):
        Unfinished()
