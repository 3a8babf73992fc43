"""The MLflow model registry: versions, aliases, holdouts, promotion decisions, model loading.

With tracking.py, the only module that imports mlflow. Consumers (promotion, scoring) go
through these functions; the gate itself (gate.py) only sees arrays.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from growthlab.errors import UserError
from growthlab.processes import HOST, alive
from growthlab.tracking import quiet

if TYPE_CHECKING:
    from omegaconf import DictConfig

HOLDOUT = "holdout/test.parquet"
CHAMPION, CHALLENGER = "champion", "challenger"

DECISION_TAG = "growthlab.decision."
LOCK_SUFFIX = ".promotion-lock"
PENDING, DONE, INTERRUPTED = "pending", "done", "interrupted"


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
    with quiet("mlflow.tracking._model_registry.fluent"):
        version = mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})
    try:
        client.set_registered_model_alias(name, alias, version.version)
    except BaseException:
        client.delete_model_version(name, version.version)  # no half-registered version
        raise
    return str(version.version)


def describe(name: str, version: str, markdown: str) -> None:
    """A version's description in the registry UI (what it is; its gate verdict once judged)."""
    MlflowClient().update_model_version(name, version, description=markdown)


def add_to_description(name: str, version: str, markdown: str) -> None:
    """Append a paragraph (a gate verdict) to a version's description."""
    current = MlflowClient().get_model_version(name, version).description or ""
    describe(name, version, f"{current}\n\n{markdown}".strip())


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
        known = [
            m.name
            for m in client.search_registered_models(max_results=50)
            if not m.name.endswith(LOCK_SUFFIX)
        ]
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


def record_decision(name: str, decision: Mapping[str, Any], key: str | None = None) -> str:
    """Write a promotion decision on the registered model (MLflow keeps no alias history);
    the same key overwrites it (a pending decision completed). Returns the key."""
    key = key or DECISION_TAG + f"{time.time_ns() // 1000:017d}"
    text = json.dumps(decision, default=str, separators=(",", ":"))
    MlflowClient().set_registered_model_tag(name, key, text)
    return key


def decisions(name: str) -> list[dict[str, Any]]:
    """Every recorded decision, oldest first; `status` is pending while its promotion runs."""
    tags = MlflowClient().get_registered_model(name).tags
    return [
        {"status": DONE, **json.loads(tags[k]), "key": k}
        for k in sorted(tags)
        if k.startswith(DECISION_TAG)
    ]


def close_interrupted(name: str) -> None:
    """Mark the pending decisions of promotions that died as interrupted (call under the lock:
    no live promotion has one then), with whether the alias had moved before they died."""
    champion = alias_version(name, CHAMPION)
    for record in decisions(name):
        if record["status"] == PENDING:
            key = record.pop("key")
            moved = champion == str(record["version"])
            record_decision(name, {**record, "status": INTERRUPTED, "moved": moved}, key)


@contextmanager
def promotion_lock(
    name: str, wait_seconds: float = 60, stale_seconds: float = 900
) -> Iterator[None]:
    """Hold the promotion lock of one registered model while its alias moves.

    The lock is a registered model named `<name>.promotion-lock`: creating a registered model
    is an insert on a unique name, atomic in every store MLflow has (SQLite, PostgreSQL,
    MySQL, and through `mlflow server`, where the client never sees the database). A file
    lock would only hold on one machine, and `pg_advisory_lock` needs the database URL, which
    a team's client (tracking=server) does not have. The holder's host, pid and start are its
    tags: a lock whose process is gone from this host, or older than `stale_seconds`, is
    taken over; another is waited for, then refused with its holder named.
    """
    client = MlflowClient()
    lock, deadline, told = name + LOCK_SUFFIX, time.monotonic() + wait_seconds, False
    me = {"host": HOST, "pid": str(os.getpid()), "since": f"{time.time():.0f}"}
    while True:
        try:
            with quiet("mlflow.store.model_registry.abstract_store"):
                client.create_registered_model(lock, tags=me)
            break
        except mlflow.exceptions.MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        holder = _lock_holder(client, lock)
        if holder is not None and _stale(holder, stale_seconds):
            _delete_quietly(client, lock)
            continue
        if time.monotonic() > deadline:
            who = holder or {}
            raise UserError(
                f"another promotion of {name!r} holds its lock (pid {who.get('pid', '?')} on "
                f"{who.get('host', '?')}): try again when it has finished"
            )
        if not told:  # a person waiting should know why; tests wait for this line
            print(f"waiting for another promotion of {name!r} to finish", flush=True)
            told = True
        time.sleep(0.2)
    try:
        yield
    finally:
        _delete_quietly(client, lock)


def promotion_running(name: str) -> bool:
    """True while a live process holds the model's promotion lock."""
    holder = _lock_holder(MlflowClient(), name + LOCK_SUFFIX)
    return holder is not None and not _stale(holder, stale_seconds=900)


def _lock_holder(client: MlflowClient, lock: str) -> dict[str, str] | None:
    try:
        return dict(client.get_registered_model(lock).tags)
    except mlflow.exceptions.MlflowException:  # released meanwhile
        return None


def _stale(holder: Mapping[str, str], stale_seconds: float) -> bool:
    """A holder killed on this host, or a lock older than any promotion takes."""
    try:
        pid, since = int(holder.get("pid", "")), float(holder.get("since", ""))
    except ValueError:
        return True
    dead = holder.get("host") == HOST and not alive(pid)
    return dead or time.time() - since > stale_seconds


def _delete_quietly(client: MlflowClient, lock: str) -> None:
    with suppress(mlflow.exceptions.MlflowException):
        client.delete_registered_model(lock)


def load_model(uri: str) -> Any:
    """A pyfunc model from the registry or a run."""
    return mlflow.pyfunc.load_model(uri)


def input_schema(model: Any) -> dict[str, str]:
    """Column name -> MLflow type name, as inferred at training (the signature, for models
    logged before it declared real-valued columns AnyType)."""
    from growthlab.tracking import INPUT_TYPES

    kinds = (model.metadata.metadata or {}).get(INPUT_TYPES) or {}
    schema = model.metadata.get_input_schema()
    return (
        {s.name: kinds.get(s.name) or getattr(s.type, "name", str(s.type)) for s in schema.inputs}
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


def schema(model: Any) -> dict[str, Any]:
    """What the version's task learned at training (column roles, frequency, ...)."""
    return dict(model.unwrap_python_model().schema)


def run_config(run_id: str) -> DictConfig:
    """The resolved config a run was trained with (its config.yaml artifact)."""
    from omegaconf import OmegaConf

    try:
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/config.yaml")
    except (mlflow.exceptions.MlflowException, OSError):
        raise UserError(
            f"run {run_id} has no config.yaml; retrain it to promote or score it"
        ) from None
    return OmegaConf.create(text)


def recorded_metrics(tags: Mapping[str, str], prefix: str = "test_") -> dict[str, float]:
    """The test metrics a version was registered with (tags test_<metric>), by metric name."""
    found = {}
    for key, value in tags.items():
        if key.startswith(prefix):
            try:
                found[key.removeprefix(prefix)] = float(value)
            except ValueError:
                continue
    return found
