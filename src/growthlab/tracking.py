"""The only module that talks to MLflow: the store, runs, what they log, the pyfunc model."""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow.entities import Metric, Param, RunStatus
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from growthlab.errors import UserError
from growthlab.processes import alive

log = logging.getLogger(__name__)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL and normal syncs for local SQLite stores (MLflow's and Optuna's): creating a fresh
    store runs ~60 migrations, each fsynced; with WAL that drops from ~5 s to ~1.3 s here."""
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")  # a second process waits, not "locked"
        cursor.close()


# Artifacts here are small and local: MLflow's download progress bars are noise on a terminal.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

# What a logged model needs to load: pinned to what trained it, so scores are reproducible.
MODEL_DISTRIBUTIONS = (
    "mlflow",
    "cloudpickle",
    "numpy",
    "pandas",
    "scikit-learn",
    "xgboost-cpu",
    "xgboost",
    "pyarrow",
    "scipy",
    "statsmodels",
    "implicit",
    "threadpoolctl",
)
PROVENANCE_DISTRIBUTIONS = ("growthlab", "hydra-core", "optuna", *MODEL_DISTRIBUTIONS)
MAX_PARAM_LENGTH = 6000


class Tracker:
    """An MLflow store and one experiment in it."""

    def __init__(self, uri: str, artifact_dir: str, experiment_name: str) -> None:
        self.uri = absolute_uri(uri)
        self.artifact_dir = Path(artifact_dir).expanduser().resolve()
        self.experiment_name = experiment_name

    def connect(self) -> str:
        """Point MLflow at the store; create the experiment if new; return its id."""
        if self.uri.startswith("sqlite:///"):
            Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        client = MlflowClient()
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        # A local store keeps artifacts beside the database, not wherever the cwd happens to be.
        location = None if is_remote(self.uri) else self.artifact_dir.as_uri()
        return client.create_experiment(self.experiment_name, artifact_location=location)

    @contextmanager
    def run(
        self, run_name: str, tags: Mapping[str, str], parent_run_id: str | None = None
    ) -> Iterator[RunLog]:
        """A run that ends FINISHED, or FAILED / KILLED when the body raises or is interrupted.

        A top-level run is also MLflow's active run (log_model needs one); a child run (a
        tuning trial, nested under parent_run_id) is written through the client only.
        """
        experiment_id = self.connect()
        client = MlflowClient()
        owner = {"growthlab.host": socket.gethostname(), "growthlab.pid": str(os.getpid())}
        if parent_run_id:
            owner["mlflow.parentRunId"] = parent_run_id
        else:
            close_orphans(experiment_id)
        run = client.create_run(experiment_id, run_name=run_name, tags={**tags, **owner})
        run_id = run.info.run_id
        status = RunStatus.to_string(RunStatus.FAILED)
        try:
            with nullcontext() if parent_run_id else mlflow.start_run(run_id=run_id):
                yield RunLog(client, run_id)
                status = RunStatus.to_string(RunStatus.FINISHED)
        except KeyboardInterrupt:
            status = RunStatus.to_string(RunStatus.KILLED)
            raise
        finally:
            client.set_terminated(run_id, status)
            if not parent_run_id:
                log.info("MLflow run %s %s in experiment %r", run_id, status, self.experiment_name)


class RunLog:
    """Everything one run writes, in batches (one MLflow call per metric costs ~9 ms)."""

    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    def params(self, values: Mapping[str, Any]) -> None:
        items = [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in values.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[start : start + 100])

    def metrics(self, values: Mapping[str, float], step: int = 0) -> None:
        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in values.items()]
        for start in range(0, len(items), 1000):
            self.client.log_batch(self.run_id, metrics=items[start : start + 1000])

    def tags(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            self.client.set_tag(self.run_id, key, str(value))

    def text(self, text: str, path: str) -> None:
        self.client.log_text(self.run_id, text, path)

    def figures(self, figures: Mapping[str, Figure]) -> None:
        for name, figure in figures.items():
            self.client.log_figure(self.run_id, figure, f"plots/{name}.png")

    def frame(self, frame: pd.DataFrame, path: str) -> None:
        """A table as Parquet (types kept), e.g. the holdout a promotion is judged on."""
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / Path(path).name
            frame.to_parquet(local, index=False)
            self.client.log_artifact(self.run_id, str(local), str(Path(path).parent))

    def tables(self, tables: Mapping[str, pd.DataFrame]) -> None:
        for name, table in tables.items():
            self.client.log_text(self.run_id, table.to_csv(index=False), f"tables/{name}.csv")

    def model(self, task: Any, estimator: Any, example: pd.DataFrame) -> str:
        """Log a pyfunc that takes raw input columns; return its models:/ URI."""
        predictor = FramePredictor(task, estimator)
        # Inference-time parameters (a recommender's k), with their defaults, for REST callers.
        params = dict(task.predict_params or {}) or None
        with warnings.catch_warnings():
            # Integer columns here are ids and segment numbers, never blank: MLflow's hint that
            # integers cannot hold missing values is noise (counts are already doubles).
            warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer")
            signature = infer_signature(example, predictor.predict(None, example), params=params)
        with _quiet("mlflow.pyfunc"):  # its cloudpickle notice is for untrusted models, not ours
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=predictor,
                signature=signature,
                input_example=example.head(5),
                pip_requirements=pinned_requirements(),
            )
        return info.model_uri


class FramePredictor(mlflow.pyfunc.PythonModel):
    """A fitted pipeline and the task that says what its output looks like."""

    def __init__(self, task: Any, estimator: Any) -> None:
        self.task = task
        self.estimator = estimator

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return self.task.predict_frame(self.estimator, model_input, **(params or {}))


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    target = logging.getLogger(logger)
    level = target.level
    target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(level)


def close_orphans(experiment_id: str) -> None:
    """Mark KILLED the runs this host left RUNNING from processes that no longer exist."""
    host = socket.gethostname()
    runs = MlflowClient().search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
    )
    for run in runs:
        pid = run.data.tags.get("growthlab.pid")
        if run.data.tags.get("growthlab.host") == host and pid and not alive(int(pid)):
            MlflowClient().set_terminated(run.info.run_id, "KILLED")
            log.warning("marked run %s KILLED: its process %s is gone", run.info.run_id, pid)


def absolute_uri(uri: str) -> str:
    """sqlite:///relative/path -> sqlite:////absolute/path: the store stays put whatever the cwd."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).expanduser().resolve())
    return uri


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "databricks"))


def pinned_requirements() -> list[str]:
    return [f"{name}=={version}" for name, version in versions(MODEL_DISTRIBUTIONS).items()]


def versions(names: tuple[str, ...] = PROVENANCE_DISTRIBUTIONS) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit(cwd: Path | None = None) -> str:
    """The commit of the working tree, '-dirty' when it has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


# --- the model registry: versions, aliases, decisions ------------------------------------------

DECISION_TAG = "growthlab.decision."


@dataclass
class Version:
    """A registered model version and the run that produced it."""

    name: str
    version: str
    run_id: str
    run_status: str
    tags: dict[str, str]

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def register(model_uri: str, name: str, tags: Mapping[str, Any], alias: str) -> str:
    """A new version of `name` with tags and an alias, or nothing at all if any step fails."""
    client = MlflowClient()
    with _quiet("mlflow.tracking._model_registry.fluent"):
        version = mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})
    try:
        client.set_registered_model_alias(name, alias, version.version)
    except BaseException:
        client.delete_model_version(name, version.version)  # no half-registered version
        raise
    return str(version.version)


def model_version(name: str, version: str | None = None, alias: str | None = None) -> Version:
    """Look a version up by number or alias; a missing model, version or alias is a UserError."""
    client = MlflowClient()
    require_model(name)
    try:
        found = (
            client.get_model_version(name, str(version))
            if version is not None
            else client.get_model_version_by_alias(name, alias)
        )
    except mlflow.exceptions.MlflowException:
        what = f"version {version}" if version is not None else f"alias @{alias}"
        aliases = client.get_registered_model(name).aliases
        raise UserError(
            f"model {name!r} has no {what} (aliases: "
            f"{', '.join(f'@{a}=v{v}' for a, v in aliases.items()) or 'none'})"
        ) from None
    status = client.get_run(found.run_id).info.status if found.run_id else "UNKNOWN"
    return Version(name, str(found.version), found.run_id or "", status, dict(found.tags))


def require_model(name: str) -> None:
    """A UserError naming the known models when `name` is not registered."""
    client = MlflowClient()
    try:
        client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        known = [m.name for m in client.search_registered_models(max_results=50)]
        raise UserError(
            f"no registered model {name!r}; known models: {', '.join(known) or 'none yet'}"
        ) from None


def alias_version(name: str, alias: str) -> str | None:
    """The version an alias points to, or None."""
    return {k: str(v) for k, v in MlflowClient().get_registered_model(name).aliases.items()}.get(
        alias
    )


def set_alias(name: str, alias: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(name, alias, version)


def record_decision(name: str, decision: Mapping[str, Any]) -> None:
    """Append a promotion decision to the registered model (MLflow keeps no alias history)."""
    stamp = f"{time.time_ns() // 1000:017d}"
    text = json.dumps(decision, default=str, separators=(",", ":"))
    MlflowClient().set_registered_model_tag(name, DECISION_TAG + stamp, text)


def decisions(name: str) -> list[dict[str, Any]]:
    """Every recorded decision, oldest first."""
    tags = MlflowClient().get_registered_model(name).tags
    return [json.loads(tags[k]) for k in sorted(tags) if k.startswith(DECISION_TAG)]


def load_model(uri: str) -> Any:
    """A pyfunc model from the registry or a run."""
    return mlflow.pyfunc.load_model(uri)


def input_schema(model: Any) -> dict[str, str]:
    """Column name -> MLflow type name, from the model's signature."""
    schema = model.metadata.get_input_schema()
    return (
        {spec.name: getattr(spec.type, "name", str(spec.type)) for spec in schema.inputs}
        if schema
        else {}
    )


def download_frame(run_id: str, path: str) -> pd.DataFrame:
    """A Parquet table logged by a run."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=folder
            )
        except (mlflow.exceptions.MlflowException, OSError):
            raise UserError(
                f"run {run_id} has no {path}; it was logged before growthlab kept holdouts: "
                "retrain it to promote or score it"
            ) from None
        return pd.read_parquet(local)
