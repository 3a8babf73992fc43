"""Trials per minute with and without pruning, at the same time budget, and the best metric of each.

Runs growthlab's runner twice as child processes, one after the other on the same machine:
``python -m growthlab tuner=tpe tuner.pruner=<median|none> tuner.timeout=BUDGET
tuner.n_trials=100000 dataset.n_rows=ROWS store=<fresh tmp dir>`` (same seed, so the same data
and the same first TPE suggestions), then reads the finished study from ``<store>/optuna.db``
and the refit's metrics from the MLflow run that owns the study. Prints, per pruner: trials
finished and pruned, trials per minute of tuning, best valid ROC AUC, test ROC AUC of the
refit on train + valid; and the ratio of trials per minute, median / none.

    python benchmarks/tuning_pruning.py [--rows 200000] [--budget 120] [--order median,none]

Trials per minute counts finished (complete + pruned) trials over the span from the first
trial's start to the last one's end; Optuna checks the timeout between trials, so the last
trial may overrun the budget. The machine is shared: "others' CPU" is the CPU time other
processes used meanwhile (from /proc/stat); compare the two arms only when it is small.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from growthlab.paths import ROOT
from growthlab.tuning import PARENT_ATTR


@dataclass
class Arm:
    """One tuning run: what the study and the MLflow run say about it."""

    pruner: str
    wall: float  # the whole child process: data, tuning, refit, evaluation, logging
    others_cpu: float
    span: float  # first trial start to last trial end
    complete: int
    pruned: int
    failed: int
    best_valid_auc: float
    test_auc: float
    oracle_test_auc: float

    @property
    def finished(self) -> int:
        return self.complete + self.pruned

    @property
    def per_minute(self) -> float:
        return 60.0 * self.finished / self.span if self.span > 0 else float("nan")


def busy_cpu_seconds() -> float:
    """CPU seconds all processes have used since boot (every field of /proc/stat but idle)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_arm(pruner: str, rows: int, budget: float, store: Path, extra: list[str]) -> Arm:
    """One child process of the runner with its own store; then read its study and run."""
    study_name = f"bench-pruner-{pruner}-{os.getpid()}"
    command = [
        sys.executable, "-m", "growthlab", "tuner=tpe", f"tuner.pruner={pruner}",
        f"tuner.timeout={budget}", "tuner.n_trials=100000", "tuner.progress=false",
        f"tuner.study_name={study_name}", f"dataset.n_rows={rows}", f"store={store}",
        f"run_name=bench-{pruner}", *extra,
    ]  # fmt: skip
    log = store / "runner.log"
    store.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        busy, started = busy_cpu_seconds(), time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall, busy = time.perf_counter() - started, busy_cpu_seconds() - busy
    if os.waitstatus_to_exitcode(status) != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command)} failed:\n{tail}")
    own_cpu = usage.ru_utime + usage.ru_stime

    study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{store}/optuna.db")
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.datetime_start and t.datetime_complete]
    span = (
        max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)
    ).total_seconds()
    count = {s: sum(t.state == s for t in trials) for s in TrialState}

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{store}/mlflow.db")
    metrics = client.get_run(study.user_attrs[PARENT_ATTR]).data.metrics
    return Arm(
        pruner=pruner,
        wall=wall,
        others_cpu=max(busy - own_cpu, 0.0),
        span=span,
        complete=count[TrialState.COMPLETE],
        pruned=count[TrialState.PRUNED],
        failed=count[TrialState.FAIL],
        best_valid_auc=study.best_value,
        test_auc=metrics["test_roc_auc"],
        oracle_test_auc=metrics.get("test_oracle_roc_auc", float("nan")),
    )


def table(arms: list[Arm]) -> str:
    head = (
        f"{'pruner':8} {'complete':>8} {'pruned':>6} {'failed':>6} {'tuning s':>8} "
        f"{'trials/min':>10} {'best valid AUC':>14} {'test AUC':>8} {'wall s':>7} "
        f"{'others CPU s':>12}"
    )
    lines = [head]
    for a in arms:
        lines.append(
            f"{a.pruner:8} {a.complete:8d} {a.pruned:6d} {a.failed:6d} {a.span:8.1f} "
            f"{a.per_minute:10.2f} {a.best_valid_auc:14.4f} {a.test_auc:8.4f} {a.wall:7.1f} "
            f"{a.others_cpu:12.1f}"
        )
    by_name = {a.pruner: a for a in arms}
    if "median" in by_name and "none" in by_name:
        median, none = by_name["median"], by_name["none"]
        lines.append(
            f"trials/min median / none: {median.per_minute / none.per_minute:.2f}x;  "
            f"test AUC median - none: {median.test_auc - none.test_auc:+.4f};  "
            f"oracle test AUC: {median.oracle_test_auc:.4f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="simulated leads")
    parser.add_argument("--budget", type=float, default=120.0, help="tuner.timeout, seconds")
    parser.add_argument("--order", default="median,none", help="pruners, run in this order")
    parser.add_argument("--keep", type=Path, help="keep the stores under this folder")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for both arms")
    args = parser.parse_args()
    pruners = args.order.split(",")
    print(
        f"{args.rows:,} simulated leads, {args.budget:g} s of tuning per arm, {pruners}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )
    arms = []
    with tempfile.TemporaryDirectory(prefix="growthlab-pruning-") as tmp:
        root = args.keep or Path(tmp)
        for pruner in pruners:
            arm = run_arm(pruner, args.rows, args.budget, root / pruner, args.overrides)
            print(
                f"  {pruner}: {arm.finished} trials in {arm.span:.0f} s, "
                f"process {arm.wall:.0f} s, others' CPU {arm.others_cpu:.0f} s",
                flush=True,
            )
            arms.append(arm)
    print(table(arms))


if __name__ == "__main__":
    main()
