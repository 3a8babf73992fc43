"""run(cfg): load -> prepare -> fit -> evaluate -> log. The only place that reads the config."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from growthlab.build import build
from growthlab.errors import UserError
from growthlab.models import tabular_pipeline
from growthlab.paths import ROOT
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


def run(cfg: DictConfig) -> RunResult:
    """Train and evaluate one model as the config describes; log it all."""
    # Build everything first: a bad config fails here, before any data is read or run started.
    dataset = build(cfg.dataset, "dataset")
    task = build(cfg.task, "task")
    tracker = build(cfg.tracking, "tracking")
    model = tabular_pipeline(build(cfg.preprocessing, "preprocessing"), build(cfg.model, "model"))

    started = time.perf_counter()
    frame = dataset.load()
    data = task.prepare(frame, dataset.columns)
    log.info("loaded %s: %d rows in %.1fs", dataset.name, len(frame), time.perf_counter() - started)

    run_name = cfg.run_name or str(cfg.model._target_).rsplit(".", 1)[-1]
    from growthlab import tracking  # mlflow costs ~3 s to import: only once the data is good

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
        started = time.perf_counter()
        model = fit(task, model, data)
        fit_seconds = time.perf_counter() - started
        log.info("fitted %s in %.1fs", run_name, fit_seconds)
        evaluation = task.evaluate(model, data)
        logged.metrics({**evaluation.metrics, "fit_seconds": fit_seconds})
        logged.figures(evaluation.figures)
        logged.tables(evaluation.tables)
        model_uri = logged.model(task, model, data.parts["train"].X.head(100))
    report(evaluation.metrics, model_uri, tracker.uri)
    return RunResult(logged.run_id, model_uri, evaluation.metrics, model, data)


def fit(task: Any, model: Any, data: Prepared) -> Any:
    """Fit, turning an estimator's complaint about its parameters into one line."""
    try:
        return task.fit(model, data)
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"the model failed to fit: {first}; check the model.* settings") from exc


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


def report(metrics: Mapping[str, float], model_uri: str, store: str) -> None:
    """A few lines a person reads at the end of a run."""
    keys = ["test_roc_auc", "test_oracle_roc_auc", "test_average_precision", "test_lift_at_10pct"]
    shown = "  ".join(f"{k}={metrics[k]:.4f}" for k in keys if k in metrics)
    print(f"\n{shown}\nmodel: {model_uri}\nstore: {store}  (make ui to browse)")
