"""Churn on a growing transaction log: the pandas engine against the Spark engine.

For each size in --rows, the project's simulator writes a transaction log as Parquet parts of
about --chunk-rows rows (a lake folder; customers of each part get their own ids), then
`python -m growthlab experiments=churn_xgboost dataset=file` runs on it once per engine, as a
user runs it. Measured per run: wall seconds, the runner's own load (read + snapshots) and fit
seconds, and the peak summed RSS of the whole process tree (the Python driver, Spark's JVM
with its executors, Python workers) sampled every 0.2 s from /proc, beside the peak of the
driver alone. Then batch scoring of --score-rows customer rows: pandas in chunks against
mlflow.pyfunc.spark_udf, in rows per second (process start-up included). Linux only.

Logs and the scoring table are generated once per size into --datadir and reused by later runs
(a `<folder>.rows` file beside it marks a finished log). A watchdog kills a run's whole process
group when its tree's RSS passes --cap-gb or the machine's MemAvailable drops below
--min-available-gb, and records "did not fit" with the peak reached: other work shares the box.

    python benchmarks/spark_scale.py --rows 1000000 3000000 [--engines pandas spark]
        [--score-rows 2000000] [--workdir /tmp/spark_scale] [--master local[2]]
        [--datadir /work/wt/sparkbench-data] [--cap-gb 20] [--min-available-gb 2.5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from growthlab.data.simulator import MarketingSimulator

ROOT = Path(__file__).resolve().parents[1]
MODEL = "churn-bench"
LOG_COLUMNS = [
    "dataset.columns.id=customer_id",
    "dataset.columns.time=timestamp",
    "dataset.columns.amount=amount",
    "dataset.columns.channel=channel",
    "dataset.columns.drop=[transaction_id,product_category]",
]
PAGE = os.sysconf("SC_PAGE_SIZE")


def cached_log(folder: Path, rows: int, chunk_rows: int, seed: int) -> int:
    """The log of `rows` rows in `folder`, written unless a finished one is there; its rows."""
    done = folder.with_suffix(".rows")  # beside the folder: readers take every file in it
    if done.exists():
        return int(done.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    written = write_log(folder, rows, chunk_rows, seed)
    done.write_text(str(written))  # written last: a half-written log is never reused
    return written


def write_log(folder: Path, rows: int, chunk_rows: int, seed: int) -> int:
    """Parquet parts of the simulator's purchases until `rows` rows; returns rows written."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = MarketingSimulator(seed).transactions(2_000, days=1095)
    per_customer = len(probe) / 2_000
    written, part = 0, 0
    while written < rows:
        customers = max(100, int(min(chunk_rows, rows - written) / per_customer))
        log = MarketingSimulator(seed + part).transactions(customers, days=1095)
        log["customer_id"] += part * 100_000_000  # each part's customers are new ones
        log.to_parquet(folder / f"part-{part:04d}.parquet", index=False)
        written, part = written + len(log), part + 1
    return written


def tree_rss(root: int) -> tuple[int, int]:
    """(summed RSS of `root` and all its descendants, RSS of `root`), in bytes."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as statm:
                rss[int(entry)] = int(statm.read().split()[1]) * PAGE
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in tree), rss.get(root, 0)


def available() -> int:
    """The machine's MemAvailable, in bytes."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


LIMITS = {"cap": 20 * 2**30, "floor": int(2.5 * 2**30), "timeout": float("inf")}


def measured(args: list[str], env: dict[str, str] | None = None) -> dict[str, float | str]:
    """Run a command; wall seconds, peak tree and driver RSS (MB), status; stderr is kept."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, start_new_session=True,
    )  # fmt: skip
    peak = {"tree": 0, "driver": 0}
    killed: list[str] = []

    def sample() -> None:
        while process.poll() is None:
            tree, driver = tree_rss(process.pid)
            peak["tree"], peak["driver"] = max(peak["tree"], tree), max(peak["driver"], driver)
            free = available()
            late = time.perf_counter() - started > LIMITS["timeout"]
            if tree > LIMITS["cap"] or free < LIMITS["floor"] or late:
                # the whole group: Spark's JVM and Python workers are in the child's session
                os.killpg(process.pid, signal.SIGKILL)
                why = "timeout" if late else "did not fit"
                killed.append(
                    f"{why}: tree {tree / 2**30:.1f} GB, MemAvailable {free / 2**30:.1f} GB"
                )
                return
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    sampler.join()
    wall = time.perf_counter() - started
    if killed:
        phase = (err.strip().splitlines() or [""])[-1][-120:]  # the runner's last log line
        status = f"stopped, {killed[0]}; peak {peak['tree'] / 2**30:.1f} GB after {wall:.0f}s"
        status += f", last log line: {phase!r}"
    elif process.returncode != 0:
        status = f"failed (exit {process.returncode}): {err.strip().splitlines()[-1:]}"
        print(err[-3000:], file=sys.stderr, flush=True)
    else:
        status = "ok"
    return {
        "status": status,
        "wall_s": wall,
        "peak_tree_mb": peak["tree"] / 2**20,
        "peak_driver_mb": peak["driver"] / 2**20,
        "stdout": out,
        "stderr": err,
    }


def train(engine: str, lake: Path, store: Path, master: str) -> dict[str, float]:
    args = [
        sys.executable, "-m", "growthlab", "experiments=churn_xgboost", "dataset=file",
        f"dataset.path={lake}", *LOG_COLUMNS, f"engine={engine}", f"store={store}",
        f"registry.model_name={MODEL}-{engine}", "model.n_jobs=2",
    ]  # fmt: skip
    if engine == "spark":
        args.append(f"engine.master='{master}'")
    shutil.rmtree(store, ignore_errors=True)
    result = measured(args)
    figures = {k: v for k, v in result.items() if k not in ("stdout", "stderr")}
    if result["status"] != "ok":
        return figures
    with sqlite3.connect(store / "mlflow.db") as db:
        metrics = dict(
            db.execute(
                "select key, value from metrics where run_uuid = (select run_uuid from runs "
                "order by start_time desc limit 1)"
            ).fetchall()
        )
    loaded = [line for line in result["stderr"].splitlines() if " loaded " in line]
    load_s = float(loaded[-1].rsplit(" in ", 1)[1].rstrip("s")) if loaded else float("nan")
    return {
        **figures,
        "load_snapshots_s": load_s,
        "fit_s": metrics.get("fit_seconds", float("nan")),
        "test_roc_auc": metrics.get("test_roc_auc", float("nan")),
    }


def scoring_table(store: Path, rows: int, path: Path, chunk_rows: int) -> None:
    """`rows` customer rows for scoring in one Parquet file, written in row groups: the
    model's holdout repeated with jitter. Kept beside a `.rows` marker and reused."""
    done = path.with_suffix(".rows")
    if done.exists() and int(done.read_text()) == rows:
        return
    holdout = next(store.rglob("holdout/test.parquet"))
    base = pd.read_parquet(holdout).drop(columns=["__label__"])
    rng = np.random.default_rng(0)
    numeric = base.select_dtypes("number").columns
    writer = None
    for start in range(0, rows, chunk_rows):
        size = min(chunk_rows, rows - start)
        table = pd.concat([base] * int(np.ceil(size / len(base))), ignore_index=True).head(size)
        table[numeric] = table[numeric] * rng.uniform(0.95, 1.05, (size, len(numeric)))
        table.insert(0, "customer_id", np.arange(start, start + size))
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, arrow.schema)
        writer.write_table(arrow.cast(writer.schema))
    if writer:
        writer.close()
    done.write_text(str(rows))


def score(engine: str, store: Path, source: Path, target: Path, master: str) -> dict[str, float]:
    args = [
        sys.executable, "-m", "growthlab", "command=score", f"store={store}",
        f"registry.model_name={MODEL}-pandas", "registry.alias=challenger",
        f"registry.scoring.input={source}", f"registry.scoring.output={target}",
        f"engine={engine}",
    ]  # fmt: skip
    if engine == "spark":
        args.append(f"engine.master='{master}'")
    return {k: v for k, v in measured(args).items() if k not in ("stdout", "stderr")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--engines", nargs="+", default=["pandas", "spark"])
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--score-rows", type=int, default=1_000_000)
    parser.add_argument("--score-engines", nargs="*", default=["pandas", "spark"])
    parser.add_argument("--score-store", type=Path, help="a store with a pandas churn model")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/spark_scale"))
    parser.add_argument("--datadir", type=Path, default=Path("/work/wt/sparkbench-data"))
    parser.add_argument("--cap-gb", type=float, default=20.0)
    parser.add_argument("--min-available-gb", type=float, default=2.5)
    parser.add_argument("--timeout-s", type=float, default=float("inf"), help="per run")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    LIMITS.update(
        cap=int(options.cap_gb * 2**30),
        floor=int(options.min_available_gb * 2**30),
        timeout=options.timeout_s,
    )
    results = []
    for rows in options.rows:
        folder = options.workdir / f"rows_{rows}"
        lake = options.datadir / f"log_{rows}_seed{options.seed}"
        started = time.perf_counter()
        written = cached_log(lake, rows, options.chunk_rows, options.seed)
        print(f"log: {written} rows ready in {time.perf_counter() - started:.0f}s", flush=True)
        for engine in options.engines:
            store = folder / f"mlruns_{engine}"
            figures = train(engine, lake, store, options.master)
            results.append({"rows": written, "step": "train", "engine": engine, **figures})
            print(json.dumps(results[-1]), flush=True)
    stores = sorted(options.workdir.glob("rows_*/mlruns_pandas/mlflow.db"))
    if options.score_rows and options.score_engines and (options.score_store or stores):
        # any pandas-trained churn model: the input, not the model, is what scales
        store = options.score_store or stores[-1].parent
        source = options.datadir / f"score_{options.score_rows}.parquet"
        started = time.perf_counter()
        scoring_table(store, options.score_rows, source, options.chunk_rows)
        print(f"score input ready in {time.perf_counter() - started:.0f}s", flush=True)
        for engine in options.score_engines:
            folder = options.workdir / f"scores_{engine}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True) if engine != "spark" else None
            target = folder if engine == "spark" else folder / "s.parquet"
            figures = score(engine, store, source, target, options.master)
            rate = options.score_rows / figures["wall_s"] if figures["status"] == "ok" else None
            results.append(
                {"rows": options.score_rows, "step": "score", "engine": engine,
                 "rows_per_s": rate, **figures}
            )  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
    print(pd.DataFrame(results).to_string(index=False))


if __name__ == "__main__":
    main()
