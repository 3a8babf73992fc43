"""run(cfg): build -> load and prepare -> [study] -> final fit -> evaluate -> log -> register.

The only reader of the config for training: each step below is named, and takes and returns
plain objects (a task, a dataset, a tracker, a tuner, a model spec), never `cfg`.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from growthlab import provenance, run_record, search_space, secrets
from growthlab.build import build, setting
from growthlab.data.dataset import Dataset
from growthlab.engines import Engine, PandasEngine
from growthlab.models.spec import GROUPS, ModelSpec, estimator_errors
from growthlab.objective import Objective
from growthlab.tasks import Prepared, Task

if TYPE_CHECKING:  # annotations only: build() imports the tracker and tuner by their _target_
    from growthlab.tracking import Tracker
    from growthlab.tuning import Tuner

log = logging.getLogger(__name__)

REFIT_SPLITS = ("test",)  # after tuning, valid is in training: only the test judges the refit


@dataclass
class Parts:
    """Everything a run is made of, built from the config before any data is read."""

    dataset: Dataset
    task: Task
    tracker: Tracker
    tuner: Tuner
    models: ModelSpec
    space: list[search_space.Param]
    engine: Engine
    metric: str = ""  # what the study optimises (`valid_<name>`) and its direction
    direction: str = "maximize"


@dataclass
class Loaded:
    """The prepared splits (pandas, or Spark frames with engine=spark) and what identifies
    the data they came from."""

    data: Prepared
    rows: int
    digest: str


@dataclass
class Tuned:
    """What a study found: the best params and the figures, counts and tables to log."""

    params: dict[str, Any]
    metrics: dict[str, float]


@dataclass
class RunResult:
    """What one call of run() produced: the MLflow ids, the metrics and the fitted model."""

    run_id: str
    model_uri: str
    metrics: dict[str, float]
    model: Any
    data: Prepared


def run(cfg: DictConfig) -> RunResult:
    """Tune (when a tuner is chosen), train and evaluate one model as configured; log it all."""
    parts = build_parts(cfg)
    # What logging the model costs up front (~1 s), on the core the single-threaded load leaves.
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    loaded = load(parts.engine, parts.dataset, parts.task)
    from growthlab import registry

    run_name = cfg.run_name or str(cfg.model._target_).rsplit(".", 1)[-1]
    shown = OmegaConf.create(secrets.mask_tree(OmegaConf.to_container(cfg, resolve=True)))
    tags = run_record.run_tags(parts, loaded, shown)
    with parts.tracker.run(run_name, tags) as logged:
        logged.text(OmegaConf.to_yaml(shown), "config.yaml")
        logged.params(run_record.run_params(shown, loaded))
        logged.datasets(
            parts.engine.samples(loaded.data),
            parts.dataset.name,
            parts.dataset.source(),
            loaded.digest,
            parts.engine.split_rows(loaded.data),
        )
        data, models, splits, tuned = loaded.data, parts.models, ("valid", "test"), None
        if parts.tuner.enabled:
            found = provenance.fingerprint(cfg, loaded.digest)
            tuned = study(parts, data, logged, worker_config(cfg), found)
            # The final model: best params, refitted on train + valid, judged once on test.
            models, data = models.with_params(tuned.params), data.with_valid_in_train()
            splits = REFIT_SPLITS
            logged.params({"data.refit_on": "train+valid"})
        model, seconds = final_fit(parts.engine, parts.task, models, data, run_name)
        metrics = evaluate_and_log(parts.engine, parts.task, model, data, splits, logged)
        metrics.update({**(tuned.metrics if tuned else {}), "fit_seconds": seconds})
        logged.metrics(metrics)
        note = run_record.run_note(parts, loaded, metrics, tuned is not None)
        logged.note(note)
        model_uri = log_model(parts.engine, parts.task, model, data, logged)
        if setting(cfg.registry, "registry", "register", bool):
            version = registry.register(
                model_uri,
                cfg.registry.model_name,
                {**run_record.registration_tags(tags, metrics), "run_id": logged.run_id},
                registry.CHALLENGER,
            )
            registry.describe(cfg.registry.model_name, version, note)
            log.info("registered %s v%s as @challenger", cfg.registry.model_name, version)
    run_record.report(metrics, parts.task.headline, model_uri, parts.tracker.uri)
    return RunResult(logged.run_id, model_uri, metrics, model, data)


# --- the steps ----------------------------------------------------------------------------------


def build_parts(cfg: DictConfig) -> Parts:
    """Every object the run needs: a bad config fails here, before any data is read."""
    setting(cfg.registry, "registry", "register", bool)
    task: Task = build(cfg.task, "task")
    tuner: Tuner = build(cfg.tuner, "tuner")
    models = model_spec(cfg)
    models.build()  # an unknown or misconfigured estimator fails now, not after loading
    # The engine is built before the dataset: engine=spark without PySpark or Java stops here.
    engine = build(cfg.engine, "engine") if "engine" in cfg else PandasEngine()
    parts = Parts(
        build(cfg.dataset, "dataset"),
        task,
        build(cfg.tracking, "tracking"),
        tuner,
        models,
        [],
        engine,
    )
    if tuner.enabled:
        parts.space = search_space.parse_space(cfg.get("search_space") or {}, models.has)
        parts.metric, parts.direction = tuner.objective(
            task.metric_names(), task.objective, task.minimized
        )
        parts.models = models.sharing_cores(tuner.n_workers)
    return parts


def model_spec(cfg: DictConfig) -> ModelSpec:
    """The `preprocessing` and `model` nodes, resolved (they may name dataset or task keys)."""
    return ModelSpec(
        OmegaConf.create({k: OmegaConf.to_container(cfg[k], resolve=True) for k in GROUPS})
    )


def warm_up() -> None:
    """Best effort: a failure only loses the head start; the real imports report it later."""
    try:
        from growthlab import tracking  # imported already: build() made the tracker

        tracking.warm_up()
    except Exception as exc:  # noqa: BLE001  (an import may fail in any way; it is retried)
        log.debug("warm-up failed: %s", exc)


def load(engine: Engine, dataset: Dataset, task: Task) -> Loaded:
    """Let the engine read the data and the task check and split it; the raw table is not kept."""
    data, rows, digest = engine.load(dataset, task)
    return Loaded(data, rows, digest)


def study(
    parts: Parts,
    data: Prepared,
    logged: Any,
    worker: tuple[str, dict[str, str]],
    fingerprint: str,
) -> Tuned:
    """An Optuna study on the validation metric; trials are child runs of `logged`."""
    from growthlab import study_report, tuning

    tuner, objective = parts.tuner, Objective(parts.task, data, parts.models, parts.engine)
    found = tuner.study(parts.direction, fingerprint)
    found.set_user_attr(tuning.PARENT_ATTR, logged.run_id)
    start = {p.key: parts.models.value(p.key) for p in parts.space}
    tuner.start_from(found, parts.space, start)
    with tempfile.TemporaryDirectory() as folder:
        workers = tuner.spawn_workers(worker[0], Path(folder), worker[1])
        tuner.wait_for_workers(found, workers)
        tuner.optimize(
            found, parts.space, objective, parts.metric, child_runs(parts, logged.run_id)
        )
        wait(workers)
    best = study_report.summary(found)
    logged.params({f"best.{k}": v for k, v in best["params"].items()})
    logged.figures(dict(study_report.figures(found)))
    logged.tables({"trials": found.trials_dataframe()})
    return Tuned(best["params"], {f"best_{parts.metric}": best["value"], **best["counts"]})


def child_runs(parts: Parts, parent_id: str) -> Any:
    """How a trial opens its child run under the study's parent run."""
    return lambda name, tags: parts.tracker.run(name, tags, parent_run_id=parent_id)


def final_fit(
    engine: Engine, task: Task, models: ModelSpec, data: Prepared, name: str
) -> tuple[Any, float]:
    """The model handed on, fitted on the training split; and how long that took."""
    started = time.perf_counter()
    with estimator_errors():
        model = engine.fit(task, models.build(), data)
    seconds = time.perf_counter() - started
    log.info("fitted %s in %.1fs", name, seconds)
    return model, seconds


def evaluate_and_log(
    engine: Engine, task: Task, model: Any, data: Prepared, splits: Sequence[str], logged: Any
) -> dict[str, float]:
    """The task's metrics per split; its figures and tables go to the run."""
    evaluation = engine.evaluate(task, model, data, splits)
    logged.figures(evaluation.figures)
    logged.tables(evaluation.tables)
    return dict(evaluation.metrics)


def log_model(engine: Engine, task: Task, model: Any, data: Prepared, logged: Any) -> str:
    """The served model (pipeline, schema, output adapter) and the holdout it is judged on."""
    from growthlab import registry

    example = engine.input_example(task, data)
    uri = logged.model(model, data.schema, task.output, example, task.predict_params)
    # The holdout travels with the model: a promotion re-scores the champion on these rows.
    logged.frame(engine.holdout(task, data), registry.HOLDOUT)
    return uri


# --- for the tuning workers --------------------------------------------------------------------


def worker_config(cfg: DictConfig) -> tuple[str, dict[str, str]]:
    """The resolved config a spawned tuning worker runs with, secrets masked, and the
    environment entry that hands it the masked values (never written to a file)."""
    worker = OmegaConf.merge(cfg, {"tuner": {"role": "worker", "progress": False}})
    resolved = OmegaConf.to_container(worker, resolve=True)
    masked = secrets.mask_tree(resolved)
    hidden = secrets.hidden(resolved, masked)
    return OmegaConf.to_yaml(OmegaConf.create(masked)), secrets.worker_environment(hidden)


def wait(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.wait() != 0:
            log.warning("a tuning worker exited with code %s", worker.returncode)
