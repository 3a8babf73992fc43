"""run(cfg): load -> prepare -> [tune] -> fit -> evaluate -> log. The only reader of the config."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from growthlab import handoff, search_space, tuning
from growthlab.build import build
from growthlab.errors import UserError
from growthlab.models import tabular_pipeline
from growthlab.paths import ROOT
from growthlab.processes import interrupted
from growthlab.tasks import Prepared

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What one call of run() produced: the MLflow ids, the metrics and the fitted model."""

    run_id: str
    model_uri: str
    metrics: dict[str, float]
    model: Any
    data: Prepared


def run(cfg: DictConfig) -> RunResult | None:
    """Tune (when a tuner is chosen), train and evaluate one model as the config says; log it all.

    Returns None in a tuning worker, which only runs trials for a study another process owns.
    """
    # Build everything first: a bad config fails here, before any data is read or run started.
    dataset = build(cfg.dataset, "dataset")
    task = build(cfg.task, "task")
    tracker = build(cfg.tracking, "tracking")
    tuner = build(cfg.tuner, "tuner")
    make_model(cfg)
    if tuner.enabled:
        space = search_space.parse_space(
            cfg.get("search_space") or {}, lambda key: has_key(cfg, key)
        )
        metric, direction = tuner.objective(task.metric_names(), task.objective, task.minimized)
        cfg = share_cores(cfg, tuner.n_workers)

    started = time.perf_counter()
    frame = dataset.load()
    data = task.prepare(frame, dataset.columns)
    log.info("loaded %s: %d rows in %.1fs", dataset.name, len(frame), time.perf_counter() - started)

    from growthlab import tracking  # mlflow costs ~3 s to import: only once the data is good

    def evaluate(params: dict[str, Any], report: Any) -> dict[str, float]:
        """One tuning trial: the plain run's fit and score, with the trial's params."""
        trial_cfg = with_params(cfg, params)
        with estimator_errors():
            metrics = task.validate(lambda: make_model(trial_cfg), data, report)
        return {f"valid_{k}": v for k, v in metrics.items()}

    def child_run(parent_id: str) -> tuning.ChildRun:
        return lambda name, tags: tracker.run(name, tags, parent_run_id=parent_id)

    if tuner.enabled and tuner.role == "worker":
        tracker.connect()
        study = tuner.study(direction)
        parent = study.user_attrs.get(tuning.PARENT_ATTR, "")
        tuner.optimize(study, space, evaluate, metric, child_run(parent))
        return None

    run_name = cfg.run_name or str(cfg.model._target_).rsplit(".", 1)[-1]
    tags = {
        "growthlab.task": task.name,
        "growthlab.dataset": dataset.name,
        "data_digest": frame_digest(frame),
        "config_hash": config_hash(cfg),
        "git_commit": tracking.git_commit(ROOT),
        **{f"version.{k}": v for k, v in tracking.versions().items()},
    }
    with tracker.run(run_name, tags) as logged:
        logged.text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        logged.params({**flatten(OmegaConf.to_container(cfg, resolve=True)), **prefixed(data.info)})
        splits: tuple[str, ...] = ("valid", "test")
        tuned: dict[str, float] = {}
        if tuner.enabled:
            study = tuner.study(direction)
            study.set_user_attr(tuning.PARENT_ATTR, logged.run_id)
            tuner.start_from(study, space, {p.key: OmegaConf.select(cfg, p.key) for p in space})
            with tempfile.TemporaryDirectory() as folder:
                workers = tuner.spawn_workers(worker_config(cfg), Path(folder))
                tuner.wait_for_workers(study, workers)
                tuner.optimize(study, space, evaluate, metric, child_run(logged.run_id))
                wait(workers)
            best = tuning.summary(study)
            logged.params({f"best.{k}": v for k, v in best["params"].items()})
            tuned = {f"best_{metric}": best["value"], **best["counts"]}
            logged.figures(dict(tuning.figures(study)))
            logged.tables({"trials": study.trials_dataframe()})
            # The final model: best params, refitted on train + valid, judged once on test.
            cfg = with_params(cfg, best["params"])
            data, splits = data.with_valid_in_train(), ("test",)
            logged.params({"data.refit_on": "train+valid"})
        started = time.perf_counter()
        model = fit(task, make_model(cfg), data)
        fit_seconds = time.perf_counter() - started
        log.info("fitted %s in %.1fs", run_name, fit_seconds)
        evaluation = task.evaluate(model, data, splits)
        metrics = {**evaluation.metrics, **tuned, "fit_seconds": fit_seconds}
        logged.metrics(metrics)
        logged.figures(evaluation.figures)
        logged.tables(evaluation.tables)
        model_uri = logged.model(task, model, task.input_example(data))
        # The holdout travels with the model: a promotion re-scores the champion on these rows.
        logged.frame(task.holdout(data), handoff.HOLDOUT)
        if cfg.registry.register:
            version = tracking.register(
                model_uri,
                cfg.registry.model_name,
                {**registration_tags(tags, metrics), "run_id": logged.run_id},
                handoff.CHALLENGER,
            )
            log.info("registered %s v%s as @challenger", cfg.registry.model_name, version)
    report(metrics, task.headline, model_uri, tracker.uri)
    return RunResult(logged.run_id, model_uri, metrics, model, data)


def registration_tags(run_tags: Mapping[str, str], metrics: Mapping[str, float]) -> dict[str, Any]:
    """What a registry reader wants to see on a version without opening its run."""
    kept = ("data_digest", "config_hash", "git_commit", "version.growthlab", "growthlab.task")
    tags: dict[str, Any] = {k: v for k, v in run_tags.items() if k in kept}
    tags.update({k: round(v, 6) for k, v in metrics.items() if k.startswith("test_")})
    return tags


def make_model(cfg: DictConfig) -> Any:
    """The configured estimator behind its preprocessing, as one scikit-learn pipeline."""
    return tabular_pipeline(build(cfg.preprocessing, "preprocessing"), build(cfg.model, "model"))


def fit(task: Any, model: Any, data: Prepared) -> Any:
    with estimator_errors():
        return task.fit(model, data)


@contextmanager
def estimator_errors() -> Iterator[None]:
    """An estimator's complaint about its parameters, said in one line."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        if interrupted.is_set():  # the library swallowed our KeyboardInterrupt: re-raise it
            raise KeyboardInterrupt from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"the model failed to fit: {first}; check the model.* settings") from exc


_ABSENT = object()


def has_key(cfg: DictConfig, key: str) -> bool:
    return OmegaConf.select(cfg, key, default=_ABSENT) is not _ABSENT


def with_params(cfg: DictConfig, params: Mapping[str, Any]) -> DictConfig:
    """A copy of the config with dotted keys set (a trial's or the best params)."""
    changed = copy.deepcopy(cfg)
    for key, value in params.items():
        OmegaConf.update(changed, key, value, merge=False)
    return changed


def share_cores(cfg: DictConfig, n_workers: int) -> DictConfig:
    """Give each tuning worker its share of the cores: oversubscribed OpenMP crawls."""
    if n_workers == 1:
        return cfg
    share = max(1, (os.cpu_count() or 1) // n_workers)
    keys = [k for k in flatten(OmegaConf.to_container(cfg.model), "model.") if k.endswith("n_jobs")]
    return with_params(cfg, dict.fromkeys(keys, share))


def worker_config(cfg: DictConfig) -> str:
    """The resolved config a spawned worker runs with."""
    worker = with_params(cfg, {"tuner.role": "worker", "tuner.progress": False})
    return OmegaConf.to_yaml(worker, resolve=True)


def wait(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.wait() != 0:
            log.warning("a tuning worker exited with code %s", worker.returncode)


def flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'model': {'max_depth': 6}} -> {'model.max_depth': 6}."""
    flat: dict[str, Any] = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def prefixed(info: Mapping[str, Any]) -> dict[str, Any]:
    return {f"data.{k}": v for k, v in info.items()}


def frame_digest(frame: pd.DataFrame) -> str:
    """A content hash of the table (values and column names), stable across runs."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update("\0".join(map(str, frame.columns)).encode())
    return digest.hexdigest()[:16]


def config_hash(cfg: DictConfig) -> str:
    text = OmegaConf.to_yaml(cfg, resolve=True, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def report(
    metrics: Mapping[str, float], headline: Sequence[str], model_uri: str, store: str
) -> None:
    """A few lines a person reads at the end of a run: the task's headline test metrics."""
    keys = [f"test_{k}" for k in headline] + [k for k in metrics if k.startswith("best_")]
    shown = "  ".join(f"{k}={metrics[k]:.4f}" for k in keys if k in metrics)
    print(f"\n{shown}\nmodel: {model_uri}\nstore: {store}  (make ui to browse)")
