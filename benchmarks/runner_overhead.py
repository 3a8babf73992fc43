"""How much the runner costs over training the same XGBoost by hand (target: within 1.2x).

Runs, as separate child processes alternating A/B/A/B, (A) the whole runner,
``python -m growthlab experiments=lead_scoring_xgboost dataset.n_rows=N`` with a fresh temporary
MLflow store each time, and (B) ``plain_xgboost.py``: the same simulated data, out-of-time split
and XGBoost parameters (read from the composed config) with no Hydra, MLflow or plots. Measures
each child's wall time and peak RSS (``os.wait4``) and prints median wall time, peak RSS, test
ROC AUC and the ratio runner/plain. Needs no network.

    python benchmarks/runner_overhead.py [--rows 1000000] [--reps 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from plain_xgboost import EXPERIMENT, composed_spec

from growthlab.paths import ROOT

TARGET_RATIO = 1.2


@dataclass
class Sample:
    """One child process: wall and CPU (user + system) seconds, peak RSS in MB, test ROC AUC."""

    wall: float
    cpu: float
    rss_mb: float
    auc: float


@dataclass
class Side:
    name: str
    samples: list[Sample] = field(default_factory=list)

    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    def rss(self) -> float:
        return max(s.rss_mb for s in self.samples)


def measure(command: list[str], workdir: Path) -> tuple[float, float, float, str]:
    """Run a child to completion; return (wall seconds, CPU seconds, peak RSS MB, stdout)."""
    out, err = workdir / "stdout.txt", workdir / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = err.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{tail}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, out.read_text()  # ru_maxrss: KiB on Linux


def run_runner(rows: int) -> Sample:
    with tempfile.TemporaryDirectory(prefix="growthlab-bench-") as tmp:
        command = [
            sys.executable, "-m", "growthlab", f"experiments={EXPERIMENT}",
            f"dataset.n_rows={rows}", f"tracking.uri=sqlite:///{tmp}/mlflow.db",
            f"tracking.artifact_dir={tmp}/artifacts",
        ]  # fmt: skip
        wall, cpu, rss, stdout = measure(command, Path(tmp))
    found = re.search(r"test_roc_auc=([0-9.]+)", stdout)
    if found is None:
        raise SystemExit(f"no test_roc_auc in the runner's output:\n{stdout}")
    return Sample(wall, cpu, rss, float(found.group(1)))


def run_plain(spec: dict[str, object]) -> Sample:
    script = Path(__file__).with_name("plain_xgboost.py")
    with tempfile.TemporaryDirectory(prefix="growthlab-bench-") as tmp:
        command = [sys.executable, str(script), "--spec", json.dumps(spec)]
        wall, cpu, rss, stdout = measure(command, Path(tmp))
    return Sample(wall, cpu, rss, json.loads(stdout.strip().splitlines()[-1])["test_roc_auc"])


def table(runner: Side, plain: Side) -> str:
    """Medians per side, then runner/plain; the per-pair wall ratios show how noisy the box was."""
    names = ("wall s (median)", "CPU s (median)", "peak RSS MB", "test AUC")
    lines = [f"{'':18} {names[0]:>15} {names[1]:>14} {names[2]:>11} {names[3]:>8}"]
    for side in (runner, plain):
        auc = statistics.median(s.auc for s in side.samples)
        cells = f"{side.wall():15.1f} {side.cpu():14.1f} {side.rss():11.0f} {auc:8.4f}"
        lines.append(f"{side.name:18} {cells}")
    ratio = runner.wall() / plain.wall()
    cells = (
        f"{ratio:14.2f}x {runner.cpu() / plain.cpu():13.2f}x {runner.rss() / plain.rss():10.2f}x"
    )
    lines.append(f"{'ratio runner/plain':18} {cells}")
    pairs = ", ".join(
        f"{r.wall:.1f}/{p.wall:.1f}" for r, p in zip(runner.samples, plain.samples, strict=True)
    )
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    lines.append(f"wall per A/B pair (runner/plain s): {pairs}")
    lines.append(f"target: runner within {TARGET_RATIO}x of plain wall time -> {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="simulated leads")
    parser.add_argument("--reps", type=int, default=2, help="runs of each side (A/B/A/B)")
    args = parser.parse_args()
    if args.reps < 2:
        parser.error("--reps must be at least 2")
    spec = composed_spec(args.rows)
    runner, plain = Side("runner"), Side("plain")
    print(f"{args.rows:,} rows, {args.reps} reps, XGBoost {spec['params']}", flush=True)
    for rep in range(1, args.reps + 1):
        runner.samples.append(run_runner(args.rows))
        plain.samples.append(run_plain(spec))
        last = runner.samples[-1].wall, plain.samples[-1].wall
        print(f"  rep {rep}: runner {last[0]:.1f}s  plain {last[1]:.1f}s", flush=True)
    print(table(runner, plain))


if __name__ == "__main__":
    main()
