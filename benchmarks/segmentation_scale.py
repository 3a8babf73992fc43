"""Segmenting a million customers: fit and assign wall time and peak RSS per model.

Each model runs in its own child process (so each peak RSS is its own, from os.wait4): the
child draws the simulator's customer profiles with planted segments
(MarketingSimulator.customer_profiles), then times the pipeline the runner builds from
conf/model/<model>.yaml (SegmentEncoder, then the clusterer): "fit" is encoder + clusterer fit
on all customers, "assign" is encoding and predicting all of them again (what batch scoring
does). It also prints the ARI against the planted segments. Linux only.

    python benchmarks/segmentation_scale.py [--customers 1000000] [--segments 5]
        [--models minibatch_kmeans,kmeans]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

MODELS = ("minibatch_kmeans", "kmeans", "gaussian_mixture")


def child(model: str, customers: int, segments: int, seed: int) -> dict[str, float]:
    """One model on one simulated table, timed in this process."""
    from sklearn.pipeline import Pipeline

    from growthlab.build import build
    from growthlab.data.simulator import MarketingSimulator
    from growthlab.metrics.clustering import adjusted_rand, min_segment_share
    from tests.conftest import compose_config

    cfg = compose_config([f"model={model}", f"model.n_clusters={segments}"] if "means" in model
                         else [f"model={model}", f"model.n_components={segments}"])  # fmt: skip
    started = time.perf_counter()
    frame = MarketingSimulator(seed).customer_profiles(customers, segments)
    X = frame.drop(columns=["customer_id", "true_segment"])
    simulate = time.perf_counter() - started
    pipeline = Pipeline(
        [
            ("encode", build(cfg.preprocessing, "preprocessing")),
            ("model", build(cfg.model, "model")),
        ]
    )
    started = time.perf_counter()
    pipeline.fit(X)
    fit = time.perf_counter() - started
    started = time.perf_counter()
    labels = pipeline.predict(X)
    assign = time.perf_counter() - started
    return {
        "simulate_seconds": simulate,
        "fit_seconds": fit,
        "assign_seconds": assign,
        "oracle_ari": adjusted_rand(frame["true_segment"].to_numpy(), labels),
        "min_segment_share": min_segment_share(labels),
    }


def run_child(model: str, args: argparse.Namespace) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--child",
        model,
        "--customers",
        str(args.customers),
        "--segments",
        str(args.segments),
        "--seed",
        str(args.seed),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{model} failed (exit {os.waitstatus_to_exitcode(status)})")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "process_seconds": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=5)
    parser.add_argument("--models", default="minibatch_kmeans,kmeans")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=MODELS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.customers, args.segments, args.seed)))
        return
    print(f"{args.customers:,} customers, {args.segments} planted segments, seed {args.seed}")
    header = ("model", "fit s", "assign s", "peak RSS MB", "oracle ARI", "min share", "process s")
    rows = [header]
    results = {}
    for model in args.models.split(","):
        r = results[model] = run_child(model, args)
        rows.append(
            (
                model,
                f"{r['fit_seconds']:.1f}",
                f"{r['assign_seconds']:.1f}",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['oracle_ari']:.3f}",
                f"{r['min_segment_share']:.3f}",
                f"{r['process_seconds']:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    if {"minibatch_kmeans", "kmeans"} <= set(results):
        mb, km = results["minibatch_kmeans"], results["kmeans"]
        print(
            f"kmeans / minibatch_kmeans: fit {km['fit_seconds'] / mb['fit_seconds']:.1f}x, "
            f"peak RSS {km['peak_rss_mb'] / mb['peak_rss_mb']:.2f}x"
        )


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
