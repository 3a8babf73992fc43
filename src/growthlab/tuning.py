"""Optuna studies from config: sampler, pruner, storage, workers, progress bar.

A study lives in durable storage (SQLite beside the MLflow store by default), so a killed
`make tune` resumes where it stopped, and several processes, on one machine or many, work on
one study. Each trial is a child MLflow run of the run that started the study.

Over 300 lines: the study's life (create or resume, claim trials, fail orphans, workers) is
one piece of concurrency, kept together; what it shows a person is in study_report.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from growthlab import study_proxy
from growthlab.errors import UserError
from growthlab.processes import HOST, alive
from growthlab.progress import SWITCH as PROGRESS_SWITCH
from growthlab.search_space import Param
from growthlab.study_report import FINISHED, Progress, count

log = logging.getLogger(__name__)

PARENT_ATTR = "mlflow_parent_run_id"
FINGERPRINT_ATTR = "fingerprint"
READY_ATTR = "worker_ready."

Evaluate = Callable[[dict[str, Any], Callable[[int, float], None]], dict[str, float]]
ChildRun = Callable[[str, dict[str, str]], AbstractContextManager[Any]]


class Tuner:
    """How to search: sampler, budget, objective, pruner, storage and workers."""

    def __init__(
        self,
        sampler: str = "tpe",
        n_trials: int = 20,
        timeout: float | None = None,
        seed: int = 0,
        metric: str | None = None,
        direction: str | None = None,
        pruner: str = "median",
        warmup_steps: int = 1,
        storage: str | None = None,
        study_name: str = "growthlab",
        n_workers: int = 1,
        role: str = "main",
        heartbeat_seconds: int = 10,
        progress: bool = True,
        start_from_config: bool = True,
        sweep_first: str | None = None,
        resume: str = "auto",
    ) -> None:
        if sampler not in ("none", "tpe", "random"):
            raise UserError(f"tuner.sampler={sampler!r} is unknown; use none, tpe or random")
        if pruner not in ("none", "median", "hyperband"):
            raise UserError(f"tuner.pruner={pruner!r} is unknown; use none, median or hyperband")
        if direction not in (None, "maximize", "minimize"):
            raise UserError(f"tuner.direction={direction!r}; use maximize or minimize")
        if role not in ("main", "worker"):
            raise UserError(f"tuner.role={role!r}; use main or worker")
        if resume not in ("auto", "force"):
            raise UserError(f"tuner.resume={resume!r}; use auto or force")
        if n_trials < 1 or n_workers < 1:
            raise UserError("tuner.n_trials and tuner.n_workers must be at least 1")
        self.sampler = sampler
        self.n_trials = n_trials
        self.timeout = timeout
        self.seed = seed
        self.metric = metric
        self.direction = direction
        self.pruner = pruner
        self.warmup_steps = warmup_steps
        self.storage = storage
        self.study_name = study_name
        self.n_workers = n_workers
        self.role = role
        self.heartbeat_seconds = heartbeat_seconds
        self.progress = progress
        self.start_from_config = start_from_config
        self.sweep_first = sweep_first
        self.resume = resume
        self._pulse = study_proxy.Pulse()  # other machines' trials' beats, seen from here

    @property
    def enabled(self) -> bool:
        return self.sampler != "none"

    @property
    def proxied(self) -> bool:
        """Studies through make server's gRPC proxy, which keeps no heartbeats."""
        return bool(self.storage) and str(self.storage).startswith(study_proxy.SCHEME)

    def objective(
        self, task_metrics: list[str], default_metric: str, minimized: tuple[str, ...]
    ) -> tuple[str, str]:
        """The metric to optimise (`valid_<name>`) and its direction; refuse one the task lacks."""
        metric = self.metric or f"valid_{default_metric}"
        known = [f"valid_{m}" for m in task_metrics]
        if metric not in known:
            raise UserError(
                f"tuner.metric={metric!r} is not produced by this task; "
                f"choose one of: {', '.join(known)}"
            )
        natural = "minimize" if metric.removeprefix("valid_") in minimized else "maximize"
        direction = self.direction or natural
        return metric, direction

    def study(self, direction: str, fingerprint: str = "") -> optuna.Study:
        """Create the study, or load it to resume: same name, storage and fingerprint (data
        digest, search space, task, metric). A study of other data or another space is not
        resumed: the new one is named `<study_name>-<fingerprint>` (workers derive the same
        name), unless tuner.resume=force."""
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        name = self._study_name(fingerprint)
        pruner = {
            "none": optuna.pruners.NopPruner(),
            "median": optuna.pruners.MedianPruner(
                n_startup_trials=3, n_warmup_steps=self.warmup_steps
            ),
            "hyperband": optuna.pruners.HyperbandPruner(),
        }[self.pruner]
        try:
            study = optuna.create_study(
                storage=self._storage(),
                sampler=self._sampler(self.seed),
                pruner=pruner,
                study_name=name,
                direction=direction,
                load_if_exists=True,
            )
        except ValueError as exc:  # an existing study optimised the other way
            raise UserError(f"study {name!r}: {exc}; pick another tuner.study_name") from None
        if fingerprint and FINGERPRINT_ATTR not in study.user_attrs:
            study.set_user_attr(FINGERPRINT_ATTR, fingerprint)
        # A resumed study or a second worker must not replay the first process's draws:
        # offset the seed by the trials already there (and, for a worker, by its process).
        offset = len(study.trials) + (os.getpid() if self.role == "worker" else 0)
        study.sampler = self._sampler(self.seed + offset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # a killed process's trials: fail, retry
        self.fail_orphans(study)
        return study

    def _study_name(self, fingerprint: str) -> str:
        """tuner.study_name, or a name derived from the fingerprint when that study holds
        trials of other data, another search space, task or metric."""
        if not fingerprint or self.resume == "force" or not self.storage:
            return self.study_name
        storage = self._storage()
        try:
            found = optuna.load_study(study_name=self.study_name, storage=storage)
        except KeyError:  # no such study yet
            return self.study_name
        known = found.user_attrs.get(FINGERPRINT_ATTR)
        if known == fingerprint or (known is None and not found.trials):
            return self.study_name
        derived = f"{self.study_name}-{fingerprint[:12]}"
        if self.role == "main":
            print(
                f"study {self.study_name!r} was run on other data, search space, task or "
                f"metric: not resuming it; this run uses study {derived!r} "
                "(tuner.resume=force resumes the old one)",
                flush=True,
            )
        return derived

    def start_from(
        self, study: optuna.Study, space: list[Param], values: Mapping[str, Any]
    ) -> None:
        """Queue the config as written as a new study's first trial (when start_from_config).

        With a budget of a few trials, a poor first draw can leave the tuned model worse than
        the defaults; trying them first means the study's best is at least as good on its own
        validation. Values outside their distribution are left to the sampler.
        """
        if study.trials:
            return
        admitted = {
            p.key: values[p.key] for p in space if p.key in values and p.admits(values[p.key])
        }
        if admitted and self.start_from_config:
            study.enqueue_trial(admitted)
        # A small dimension that decides the answer (segmentation's k) is tried in full, each
        # value with the config's other settings, before the sampler explores.
        for value in self._sweep(space):
            if not (self.start_from_config and admitted.get(self.sweep_first) == value):
                study.enqueue_trial({**admitted, self.sweep_first: value})

    def _sweep(self, space: list[Param]) -> list[Any]:
        """Every value of the tuner.sweep_first dimension (an int range or a categorical)."""
        if self.sweep_first is None:
            return []
        found = [p for p in space if p.key == self.sweep_first]
        if not found or found[0].type not in ("int", "categorical"):
            usable = [p.key for p in space if p.type in ("int", "categorical")]
            raise UserError(
                f"tuner.sweep_first={self.sweep_first!r} is not an int or categorical key of "
                f"the search space; use one of {', '.join(usable) or 'none'}"
            )
        param = found[0]
        if param.type == "categorical":
            return list(param.choices)
        return list(range(int(param.low), int(param.high) + 1, int(param.step or 1)))

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        seed %= 2**32
        if self.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed)
        return optuna.samplers.RandomSampler(seed=seed)

    def fail_orphans(self, study: optuna.Study) -> None:
        """Fail (and queue again) RUNNING trials whose process is gone, without waiting for
        the heartbeat's grace period: a dead process on this host, another machine's trial
        through the proxy whose beat stopped, or a trial that never started beating (killed
        between Optuna's ask and its first heartbeat)."""
        grace = 2 * self.heartbeat_seconds
        now = dt.datetime.now()
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            pid = trial.user_attrs.get("pid")
            if pid is not None and trial.user_attrs.get("host") == HOST:
                dead = not alive(int(pid))
            elif study_proxy.BEAT_ATTR in trial.user_attrs:  # another machine's, via the proxy
                beat = trial.user_attrs[study_proxy.BEAT_ATTR]
                dead = self._pulse.still(trial._trial_id, beat, grace)  # noqa: SLF001
            elif pid is not None:  # another machine's: Optuna's heartbeat judges it
                dead = False
            else:
                started = trial.datetime_start or now
                dead = (now - started).total_seconds() > grace
            if dead:
                study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # noqa: SLF001
                if trial.params:
                    study.enqueue_trial(trial.params, skip_if_exists=False)
                log.warning(
                    "trial %d's process is gone: failed it and queued it again", trial.number
                )

    def _storage(self) -> optuna.storages.BaseStorage | None:
        if not self.storage:
            return None
        if self.storage.startswith(study_proxy.SCHEME):
            # make server's proxy: no database credentials here. It keeps no heartbeats, so
            # a trial of a killed worker on another machine stays RUNNING (README).
            return study_proxy.client(self.storage)  # type: ignore[return-value]
        if self.storage.startswith("sqlite:///"):
            Path(self.storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(STORAGE_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    # Heartbeats and their retry callback are flagged experimental since Optuna 2.
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(
                        self.storage,
                        heartbeat_interval=self.heartbeat_seconds,
                        grace_period=2 * self.heartbeat_seconds,
                        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                            max_retry=2
                        ),
                    )
            except Exception as exc:  # noqa: BLE001 - driver and URL errors differ by backend
                # Two processes creating a fresh database's tables at once: one loses the race
                # on a unique constraint (STACK.md); the tables exist when it tries again.
                racing = "UniqueViolation" in str(exc) or "already exists" in str(exc)
                if racing and attempt + 1 < STORAGE_ATTEMPTS:
                    time.sleep(1 + attempt)
                    continue
                first = str(exc).strip().splitlines()[0]
                raise UserError(f"cannot open tuner.storage={self.storage!r}: {first}") from None
        raise AssertionError("unreachable")

    def optimize(
        self,
        study: optuna.Study,
        space: list[Param],
        evaluate: Evaluate,
        metric: str,
        child_run: ChildRun,
    ) -> None:
        """Run trials in this process until the study holds n_trials finished trials."""
        if self.role == "worker":
            study.set_user_attr(f"{READY_ATTR}{HOST}.{os.getpid()}", time.time())
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        started = time.monotonic()

        def objective(trial: optuna.Trial) -> float:
            trial.set_user_attr("host", HOST)
            trial.set_user_attr("pid", os.getpid())
            _claim(study, trial, self.n_trials)
            if not self.proxied:  # RDB storages keep Optuna's own heartbeat
                return run_trial(trial, space, evaluate, metric, maximize, child_run)
            with study_proxy.beating(trial, self.heartbeat_seconds):
                return run_trial(trial, space, evaluate, metric, maximize, child_run)

        failures = 0
        with self._progress(study) as progress:
            while self._busy_or_done(study) < self.n_trials:
                remaining = (
                    None if self.timeout is None else self.timeout - (time.monotonic() - started)
                )
                if remaining is not None and remaining <= 0:
                    log.info("tuner.timeout reached: %d finished trials", count(study, FINISHED))
                    break
                study.optimize(
                    objective,
                    n_trials=1,
                    timeout=remaining,
                    catch=(StudyFull, UserError),
                    callbacks=[progress],
                )
                last = study.get_trials(deepcopy=False)[-1]
                if last.user_attrs.get("surplus"):
                    break
                failures = failures + 1 if last.state == TrialState.FAIL else 0
                if failures >= MAX_FAILURES_IN_A_ROW:
                    raise UserError(
                        f"{failures} trials in a row failed (see the FAILED child runs); "
                        "narrow the search_space ranges"
                    )

    def _busy_or_done(self, study: optuna.Study) -> int:
        self.fail_orphans(study)
        return count(study, FINISHED + (TrialState.RUNNING,))

    def spawn_workers(
        self, config_yaml: str, folder: Path, env: Mapping[str, str] | None = None
    ) -> list[subprocess.Popen[bytes]]:
        """Start n_workers - 1 extra processes on the same study (this process is one).

        `config_yaml` has its secrets masked; `env` carries them to the workers (secrets.py).
        """
        path = folder / "worker.yaml"
        path.touch(mode=0o600)
        path.write_text(config_yaml)
        return [
            subprocess.Popen(
                [sys.executable, "-m", "growthlab.worker", str(path)],
                # one terminal, one bar: the trials'
                env={**os.environ, PROGRESS_SWITCH: "0", **(env or {})},
            )
            for _ in range(self.n_workers - 1)
        ]

    def wait_for_workers(
        self, study: optuna.Study, workers: list[subprocess.Popen[bytes]], limit: float = 120
    ) -> None:
        """Start trials only once the spawned workers are ready (they load the data first):
        otherwise short studies end before a worker has joined."""
        deadline = time.monotonic() + limit
        ready_before = self._ready(study)
        while time.monotonic() < deadline and any(w.poll() is None for w in workers):
            if self._ready(study) - ready_before >= len(workers):
                return
            time.sleep(0.5)

    @staticmethod
    def _ready(study: optuna.Study) -> int:
        attrs = optuna.load_study(study_name=study.study_name, storage=study._storage).user_attrs  # noqa: SLF001
        return sum(key.startswith(READY_ATTR) for key in attrs)

    def _progress(self, study: optuna.Study) -> AbstractContextManager[Progress]:
        return Progress(study, self.n_trials, enabled=self.progress and self.role == "main")


MAX_FAILURES_IN_A_ROW = 3
STORAGE_ATTEMPTS = 3  # opening a fresh database races with another process creating it


class StudyFull(Exception):
    """Another worker took the last trial of the budget first."""


def _claim(study: optuna.Study, trial: optuna.Trial, n_trials: int) -> None:
    """Trial numbers are handed out in order: a trial past the budget steps aside."""
    ahead = [
        t
        for t in study.get_trials(deepcopy=False, states=FINISHED + (TrialState.RUNNING,))
        if t.number < trial.number
    ]
    if len(ahead) >= n_trials:
        trial.set_user_attr("surplus", True)
        raise StudyFull


def run_trial(
    trial: optuna.Trial,
    space: list[Param],
    evaluate: Evaluate,
    metric: str,
    maximize: bool,
    child_run: ChildRun,
) -> float:
    """Sample, fit with the validation curve reported, log the trial as a child run."""
    params = {p.key: p.suggest(trial) for p in space}
    pruned = None
    steps = [0]
    with child_run(f"trial-{trial.number}", {"optuna.trial": str(trial.number)}) as child:
        child.params(params)

        def report(step: int, value: float) -> None:
            # `value` is a validation score where higher is better (AUC, -MASE); the pruner
            # compares trials step by step in the study's direction.
            steps.append(step)
            trial.report(value if maximize else -value, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {step} (validation score {value:.4f})")

        try:
            metrics = evaluate(params, report)
        except optuna.TrialPruned as exc:
            pruned = exc
            child.tags({"optuna.state": "PRUNED"})
            child.metrics({"pruned_at_step": float(steps[-1])})
        else:
            child.metrics(metrics)
            child.tags({"optuna.state": "COMPLETE"})
    if pruned is not None:
        raise pruned
    value = metrics[metric]
    if not math.isfinite(value):
        raise UserError(f"{metric} is not a finite number ({value}) for trial {trial.number}")
    return value
