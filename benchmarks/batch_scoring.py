"""Batch scoring at CRM scale: time and memory of `make score` on a large file of leads.

Writes N simulated leads (the CRM's columns, without the label or the true probability) as CSV
to a temporary folder, in slices so this process stays small; trains a small lead-scoring
model into a temporary MLflow store and promotes it to @champion; then runs, as a child process,

    python -m growthlab command=score registry.scoring.input=leads.csv \
        registry.scoring.output=scores.csv registry.scoring.chunk_rows=C store=<tmp>

and reports its wall time, rows per second and peak RSS (``os.wait4``). For comparison, another
child reads the whole CSV with ``pandas.read_csv`` and reports its own peak RSS: what loading the
file at once would cost before any scoring. Linux only; needs no network.

    python benchmarks/batch_scoring.py [--rows 5000000] [--chunk-rows 100000]

The machine is shared: quote the ratio of the two RSS figures and rows/s, not absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from growthlab.paths import ROOT

MODEL = "lead_scoring-simulated_leads"  # ${task.name}-${dataset.name}
SLICE_ROWS = 250_000
NOT_IN_CRM = ["converted", "p_convert"]
TRAIN = [
    "dataset.n_rows=20000",
    "model.n_estimators=50",
    "task.importance_rows=1000",
]


@dataclass
class Child:
    wall: float
    cpu: float
    rss_mb: float
    stdout: str
    stderr: str


def measure(command: list[str], workdir: Path, name: str) -> Child:
    """Run a child to completion with its output in files; its wall, CPU and peak RSS."""
    out, err = workdir / f"{name}.stdout", workdir / f"{name}.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stdout_text, stderr_text = out.read_text(), err.read_text()
    if child.returncode != 0:
        sys.exit(f"{name} failed ({child.returncode}):\n{stderr_text[-3000:]}")
    return Child(
        wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout_text, stderr_text
    )


def write_leads(path: Path, rows: int, seed: int) -> float:
    """`rows` leads as CSV, one slice at a time (each slice its own seed, ids continued)."""
    from growthlab.data.simulator import MarketingSimulator

    started = time.perf_counter()
    written = 0
    while written < rows:
        n = min(SLICE_ROWS, rows - written)
        part = MarketingSimulator(seed + written // SLICE_ROWS).leads(n).drop(columns=NOT_IN_CRM)
        part["lead_id"] += written
        part.to_csv(path, mode="a", header=written == 0, index=False)
        written += n
    return time.perf_counter() - started


def count_rows(path: Path) -> int:
    """Data rows of a CSV (lines minus the header), read in blocks."""
    lines = 0
    with path.open("rb") as file:
        while block := file.read(1 << 24):
            lines += block.count(b"\n")
    return lines - 1


def growthlab(*args: str) -> list[str]:
    return [sys.executable, "-m", "growthlab", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="leads in the scored file")
    parser.add_argument(
        "--chunk-rows", type=int, default=100_000, help="registry.scoring.chunk_rows"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="growthlab-bench-") as folder:
        work = Path(folder)
        store, leads, scores = work / "mlruns", work / "leads.csv", work / "scores.csv"

        seconds = write_leads(leads, args.rows, args.seed)
        size_mb = leads.stat().st_size / 2**20
        print(f"wrote {args.rows:,} leads to CSV ({size_mb:,.0f} MB) in {seconds:.0f}s")

        train = measure(growthlab(*TRAIN, f"store={store}"), work, "train")
        promote = measure(growthlab("command=promote", f"store={store}"), work, "promote")
        champion = promote.stdout.strip().splitlines()[-1]
        print(f"trained in {train.wall:.0f}s, promoted in {promote.wall:.0f}s: {champion}")

        score = measure(
            growthlab(
                "command=score",
                f"registry.model_name={MODEL}",
                f"registry.scoring.input={leads}",
                f"registry.scoring.output={scores}",
                f"registry.scoring.chunk_rows={args.chunk_rows}",
                f"store={store}",
            ),
            work,
            "score",
        )
        scored = count_rows(scores)
        if scored != args.rows:
            sys.exit(f"scores.csv holds {scored} rows, expected {args.rows}")

        read = measure(
            [
                sys.executable,
                "-c",
                "import sys, pandas; print(len(pandas.read_csv(sys.argv[1])))",
                str(leads),
            ],
            work,
            "read_csv",
        )

    result = {
        "rows": args.rows,
        "chunk_rows": args.chunk_rows,
        "csv_mb": round(size_mb),
        "score_wall_s": round(score.wall, 1),
        "score_cpu_s": round(score.cpu, 1),
        "rows_per_s": round(args.rows / score.wall),
        "score_peak_rss_mb": round(score.rss_mb),
        "read_csv_wall_s": round(read.wall, 1),
        "read_csv_peak_rss_mb": round(read.rss_mb),
    }
    print(score.stdout.strip().splitlines()[-1])
    print(
        f"make score: {score.wall:.1f}s wall ({score.cpu:.1f}s CPU), "
        f"{result['rows_per_s']:,} rows/s, peak RSS {score.rss_mb:,.0f} MB "
        f"(chunks of {args.chunk_rows:,} rows)"
    )
    print(
        f"pandas.read_csv of the whole file: {read.wall:.1f}s, peak RSS {read.rss_mb:,.0f} MB "
        f"({read.rss_mb / score.rss_mb:.1f}x the scorer's)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
