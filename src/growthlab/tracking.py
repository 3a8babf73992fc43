"""The only module that talks to MLflow: the store, runs, what they log, the pyfunc model.

Over 300 lines on purpose: with registry.py it is the only module that imports MLflow, so
MLflow's API changes land in two files. What needs no MLflow lives elsewhere (provenance.py).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import sqlalchemy
from matplotlib.figure import Figure
from mlflow.entities import Dataset as DatasetEntity
from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunStatus
from mlflow.models import ModelSignature, infer_signature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import AnyType, ColSpec, Schema
from sqlalchemy import event
from sqlalchemy.engine import Engine

from growthlab import provenance, secrets
from growthlab.errors import UserError
from growthlab.models import runtime_imports
from growthlab.processes import alive
from growthlab.store_lock import store_lock

log = logging.getLogger(__name__)

# Metadata key of a logged model: each input column's declared MLflow type, as inferred
# (the signature itself declares real-valued columns AnyType, see lenient_numbers).
INPUT_TYPES = "growthlab_input_types"
REAL = ("double", "float")
LENIENT = (*REAL, "datetime")


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
# MLflow writes "View run ... at: URL" straight to stdout, past every mask: a tracking URI with
# user:password@ in it would print the password after each run and trial. Ours is masked.
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"

MAX_PARAM_LENGTH = 6000
SCHEMA_ROWS = 1000  # a dataset input's schema is read from these first rows: no copy, no scan
CONTEXTS = {"train": "training", "valid": "validation", "test": "test"}
NOTE_TAG = "mlflow.note.content"  # the run's description in the MLflow UI (markdown)


class Tracker:
    """An MLflow store and one experiment in it."""

    def __init__(self, uri: str, artifact_dir: str, experiment_name: str) -> None:
        self.uri = absolute_uri(uri)
        self.artifact_dir = Path(artifact_dir).expanduser().resolve()
        self.experiment_name = experiment_name

    def connect(self) -> str:
        """Point MLflow at the store; create the experiment if new; return its id."""
        if self.uri.startswith("sqlite:///"):
            store = Path(self.uri.removeprefix("sqlite:///")).parent
            store.mkdir(parents=True, exist_ok=True)
            private(store)
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        # A fresh SQLite store is created (migrated) by one process at a time: two at once race.
        with store_lock(self.uri):
            if self.uri.startswith("sqlite:///"):
                seed_store(Path(self.uri.removeprefix("sqlite:///")))
            client = MlflowClient()
            experiment = client.get_experiment_by_name(self.experiment_name)
            if experiment is not None:
                return experiment.experiment_id
            # A local store keeps artifacts beside the database, not wherever the cwd is.
            location = None if is_remote(self.uri) else self.artifact_dir.as_uri()
            try:
                return client.create_experiment(self.experiment_name, artifact_location=location)
            except mlflow.exceptions.MlflowException as exc:
                # On a server no lock spans machines: another client may have just created it.
                created = client.get_experiment_by_name(self.experiment_name)
                if exc.error_code != "RESOURCE_ALREADY_EXISTS" or created is None:
                    raise
                return created.experiment_id

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
        shown = {k: secrets.mask(str(v)) for k, v in {**tags, **owner}.items()}
        run = client.create_run(experiment_id, run_name=secrets.mask(run_name), tags=shown)
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
                if is_remote(self.uri):
                    page = f"{self.uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
                    print(f"View run {run.info.run_name} at: {secrets.mask(page)}", flush=True)


def private(folder: Path) -> None:
    """The local store is the user's alone (0700): runs, models and studies sit in it."""
    try:
        folder.chmod(0o700)
    except OSError:  # a shared folder someone else owns: leave it as they set it
        log.debug("cannot make %s private", folder)


class RunLog:
    """Everything one run writes, in batches (one MLflow call per metric costs ~9 ms)."""

    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    def params(self, values: Mapping[str, Any]) -> None:
        items = [Param(k, secrets.mask(str(v))[:MAX_PARAM_LENGTH]) for k, v in values.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[start : start + 100])

    def metrics(self, values: Mapping[str, float], step: int = 0) -> None:
        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in values.items()]
        for start in range(0, len(items), 1000):
            self.client.log_batch(self.run_id, metrics=items[start : start + 1000])

    def tags(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            self.client.set_tag(self.run_id, key, secrets.mask(str(value)))

    def note(self, markdown: str) -> None:
        """The run's description, shown at the top of its page in the MLflow UI."""
        self.tags({NOTE_TAG: markdown})

    def datasets(
        self,
        parts: Mapping[str, pd.DataFrame],
        name: str,
        source: str,
        digest: str,
        rows: Mapping[str, int] | None = None,
    ) -> None:
        """The data each split came from, as MLflow dataset inputs (context = the split's use):
        name, source, digest, schema, row count (`rows`, when `parts` are only each split's
        head). The UI's Dataset column reads these."""
        rows = rows or {}
        inputs = [
            DatasetInput(
                dataset_entity(frame, f"{name}-{part}", source, digest, rows.get(part)),
                tags=[InputTag("mlflow.data.context", CONTEXTS.get(part, part))],
            )
            for part, frame in parts.items()
        ]
        self.client.log_inputs(self.run_id, datasets=inputs)

    def text(self, text: str, path: str) -> None:
        self.client.log_text(self.run_id, secrets.mask(text), path)

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

    def model(
        self,
        estimator: Any,
        schema: Mapping[str, Any],
        output: str,
        example: pd.DataFrame,
        params: Mapping[str, Any] | None = None,
    ) -> str:
        """Log a pyfunc that takes raw input columns; return its models:/ URI.

        `params`: inference-time options with their defaults (a recommender's k), for REST.
        """
        predictor = FramePredictor(estimator, dict(schema), output)
        with warnings.catch_warnings():
            # Integer columns here are ids and segment numbers, never blank: MLflow's hint that
            # integers cannot hold missing values is noise (counts are already doubles).
            warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer")
            signature = infer_signature(
                example, predictor.predict(None, example), params=dict(params or {}) or None
            )
        signature, kinds = lenient_numbers(signature)
        predictor.reals = tuple(c for c, kind in kinds.items() if kind in REAL)
        predictor.dates = tuple(c for c, kind in kinds.items() if kind == "datetime")
        with quiet("mlflow.pyfunc"):  # its cloudpickle notice is for untrusted models, not ours
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=predictor,
                signature=signature,
                input_example=example.head(5),
                pip_requirements=provenance.pinned_requirements(runtime_imports(estimator)),
                metadata={INPUT_TYPES: kinds},
            )
        return info.model_uri


def dataset_entity(
    frame: pd.DataFrame, name: str, source: str, digest: str, rows: int | None = None
) -> DatasetEntity:
    """An MLflow dataset record of `frame`: schema from its first rows, counts from all of it
    (or `rows`, the split's length when `frame` is its head).

    MLflow's from_pandas would infer the schema on every row and keep the frame; a 1M-row
    split costs only its head here. `digest` is the whole table's (provenance.frame_digest).
    """
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    try:
        origin = resolve_dataset_source(source) if Path(source).is_file() else None
    except Exception:  # noqa: BLE001 - an unknown kind of source: described by name below
        origin = None
    origin = origin or CodeDatasetSource(tags={"mlflow.source.name": secrets.mask(source)})
    head = mlflow.data.from_pandas(frame.head(SCHEMA_ROWS), source=origin, name=name, digest=digest)
    entity = head._to_mlflow_entity()  # noqa: SLF001 - the public path logs to the active run only
    n = len(frame) if rows is None else int(rows)
    profile = {"num_rows": n, "num_elements": n * frame.shape[1]}
    return DatasetEntity(
        name=entity.name,
        digest=entity.digest,
        source_type=entity.source_type,
        source=secrets.mask(entity.source),
        schema=entity.schema,
        profile=json.dumps(profile),
    )


def lenient_numbers(signature: ModelSignature) -> tuple[ModelSignature, dict[str, str]]:
    """The signature with real-valued (double) and date columns declared AnyType, and every
    column's inferred type.

    A count column is double in training (blanks are allowed), but `pd.read_csv` of a file
    without blanks, or a JSON request with integers, gives int64, and MLflow refuses int64 for
    a double ("Can not safely convert int64 to float64"), while `long` would refuse the file
    with blanks. No MLflow type accepts both: the signature leaves these columns to the model,
    which converts them to float64 itself (FramePredictor.reals) and refuses text in them.
    Dates read by `pd.read_csv` are text, which MLflow 3 refuses for `datetime` under pandas 3
    (StringDtype, not object): the model parses them (ISO-8601, as in training).
    """
    specs = signature.inputs.inputs if signature.inputs is not None else []
    kinds = {s.name: getattr(s.type, "name", str(s.type)) for s in specs if s.name}
    lenient = [
        ColSpec(AnyType(), s.name, s.required) if kinds.get(s.name or "") in LENIENT else s
        for s in specs
    ]
    if specs:
        signature = ModelSignature(Schema(lenient), signature.outputs, signature.params)
    return signature, kinds


class FramePredictor(mlflow.pyfunc.PythonModel):
    """A fitted pipeline, what its task learned (plain values) and its output adapter's name.

    Never the task object: a model in the registry must outlive refactors of task classes.
    """

    reals: tuple[str, ...] = ()  # input columns the pipeline was fitted on as float64
    dates: tuple[str, ...] = ()  # input columns it was fitted on as datetime64

    def __init__(self, estimator: Any, schema: dict[str, Any], output: str) -> None:
        self.estimator = estimator
        self.schema = schema
        self.output = output

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models registered before growthlab 0.2 pickled the whole task: they cannot be read
        # without it. Say how to re-register them instead of failing deep inside a task class.
        if "task" in state and "schema" not in state:
            raise UserError(
                "this model was registered by growthlab < 0.2, which kept the task object inside "
                "it; re-register it by training again (README: Upgrading)"
            )
        self.__dict__.update(state)

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        from growthlab import outputs

        reals = [c for c in self.reals if c in model_input.columns]
        if reals:  # int64 from a CSV without blanks, or JSON integers: the fitted dtype
            model_input = model_input.assign(**{c: _reals(model_input[c]) for c in reals})
        dates = [c for c in self.dates if c in model_input.columns]
        if dates:
            from growthlab.data.dates import parse_dates

            model_input = model_input.assign(**{c: parse_dates(model_input[c], c) for c in dates})
        return outputs.predict(
            self.output, self.estimator, model_input, self.schema, **(params or {})
        )


def _reals(values: pd.Series) -> pd.Series:
    """A column as float64; one line naming it when it holds text (never the value)."""
    try:
        return pd.to_numeric(values).astype("float64")
    except (ValueError, TypeError):
        raise UserError(f"column {values.name!r} holds values that are not numbers") from None


@contextmanager
def quiet(logger: str) -> Iterator[None]:
    target = logging.getLogger(logger)
    level = target.level
    target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(level)


def refusal(exc: BaseException) -> str | None:
    """What to tell a user whose account the tracking server refused (401/403), else None."""
    if not isinstance(exc, mlflow.exceptions.MlflowException):
        return None
    text, user = str(exc), os.environ.get("MLFLOW_TRACKING_USERNAME")
    endpoint = text.split("endpoint ", 1)[-1].split(" ", 1)[0] if "endpoint " in text else "it"
    if "403" in text or exc.error_code == "PERMISSION_DENIED":
        return (
            f"the tracking server refused account {user!r} the right to change {endpoint}: "
            "ask its owner or an admin for EDIT or MANAGE permission on it"
        )
    if "401" in text or exc.error_code == "UNAUTHENTICATED":
        return (
            "the tracking server needs an account: export MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD (an admin creates one with make user NAME=...)"
        )
    return None


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


def warm_up() -> None:
    """Import the pyfunc flavour and build MLflow's map of installed packages (~1 s: log_model
    checks the pinned requirements against it; ours come from this very environment). The
    runner calls this on a background thread while the data loads, so it overlaps the load
    instead of following the fit. The stores' modules are left to connect(): imported during
    the load they would add ~36 MB to the run's peak memory."""
    import mlflow.pyfunc  # noqa: F401
    from mlflow.utils import requirements_utils

    requirements_utils._init_packages_to_modules_map()  # private: a failure only loses time


def seed_store(path: Path) -> None:
    """A new SQLite store starts as a copy of an empty, migrated MLflow schema.

    Creating a store runs MLflow's ~60 schema migrations (1-5 s here, more than many a run's
    training): they now run once per machine and MLflow version, into a template under the
    user's cache folder, and each new store copies it (milliseconds). MLflow then finds every
    table present and only adds its default experiment. Any failure leaves MLflow to create
    the store itself, as before.
    """
    if path.exists():
        return
    try:
        template = schema_template()
        with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
            source.backup(target)  # a consistent copy, whatever journal mode the template has
    except (OSError, sqlite3.Error, sqlalchemy.exc.SQLAlchemyError) as exc:
        log.debug("no schema template (%s): MLflow creates the store", exc)
        path.unlink(missing_ok=True)


def schema_template() -> Path:
    """An empty store migrated to this MLflow's schema head, made once (under a lock)."""
    from mlflow.store.db.utils import _initialize_tables  # no public API for the schema alone

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "growthlab"
    template = cache / f"mlflow-{mlflow.__version__}-schema.db"
    if template.exists():
        return template
    cache.mkdir(parents=True, exist_ok=True)
    with store_lock(f"sqlite:///{template}"):
        if not template.exists():
            partial = template.with_name(f"{template.name}.{os.getpid()}.partial")
            partial.unlink(missing_ok=True)
            engine = sqlalchemy.create_engine(f"sqlite:///{partial}")
            try:
                _initialize_tables(engine)
            finally:
                engine.dispose()  # the last connection closes: the WAL is folded into the file
            os.replace(partial, template)
    return template


def absolute_uri(uri: str) -> str:
    """sqlite:///relative/path -> sqlite:////absolute/path: the store stays put whatever the cwd."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).expanduser().resolve())
    return uri


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "databricks"))
