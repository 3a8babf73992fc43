"""Backtest wall time and peak RSS on a large daily panel: global XGBoost against seasonal naive.

Simulates the project's revenue panel (4 channels x `--regions` regions = 1,000 series at the
default 250, `--days` days), then per model, in its own child process (so each peak RSS is its
own): the task's prepare, one fit before the first test window and the test backtest
(`--windows` windows of `--horizon` days, refit once, recursive multi-step), as a plain run
does it. Prints rows, wall seconds per phase, peak RSS (resource.getrusage, Linux), test MASE
and the ratios XGBoost / seasonal naive. No MLflow, Hydra or plots.

    python benchmarks/forecast_backtest.py [--regions 250] [--days 1095] [--horizon 28]
        [--windows 3] [--estimators 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

MODELS = ("global_xgboost", "seasonal_naive")


def child(args: argparse.Namespace) -> None:
    """One model, timed: prints one JSON line."""
    from growthlab.data.dataset import Columns
    from growthlab.data.simulator import REVENUE_COLUMNS, MarketingSimulator
    from growthlab.models.forecasters import GlobalBoosted, SeasonalNaive
    from growthlab.tasks.forecast import Forecast, _units

    started = time.perf_counter()
    frame = MarketingSimulator(args.seed).revenue(args.regions, days=args.days)
    simulated = time.perf_counter()
    task = Forecast(horizon=args.horizon, backtest={"windows": args.windows, "valid_windows": 1})
    data = task.prepare(frame, Columns.from_mapping(REVENUE_COLUMNS))
    prepared = time.perf_counter()
    if args.model == "global_xgboost":
        model = GlobalBoosted(horizon=args.horizon, n_estimators=args.estimators, n_jobs=2)
    else:
        model = SeasonalNaive()
    fitted = task.fit(model, data)
    fit_done = time.perf_counter()
    table = task.backtest_run(lambda: model, data, "test", fitted=fitted)
    done = time.perf_counter()
    metrics = task.metrics_of(*_units(table))
    print(
        json.dumps(
            {
                "model": args.model,
                "rows": len(frame),
                "series": data.info["n_series"],
                "forecast_cells": len(table),
                "simulate_s": simulated - started,
                "prepare_s": prepared - simulated,
                "fit_s": fit_done - prepared,
                "backtest_s": done - fit_done,
                "total_s": done - prepared,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "test_mase": metrics["mase"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=250)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--estimators", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model:
        child(args)
        return
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    results = {}
    for model in MODELS:
        command = [sys.executable, __file__, *sys.argv[1:], "--model", model]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        results[model] = json.loads(out.strip().splitlines()[-1])
        r = results[model]
        print(
            f"{model:15s} rows={r['rows']:,} series={r['series']} cells={r['forecast_cells']:,}  "
            f"prepare={r['prepare_s']:.1f}s fit={r['fit_s']:.1f}s backtest={r['backtest_s']:.1f}s "
            f"total={r['total_s']:.1f}s  peak RSS={r['peak_rss_mb']:.0f} MB  "
            f"test MASE={r['test_mase']:.4f}"
        )
    xgb, naive = results["global_xgboost"], results["seasonal_naive"]
    print(
        f"ratio xgboost / seasonal naive: wall {xgb['total_s'] / naive['total_s']:.1f}x, "
        f"peak RSS {xgb['peak_rss_mb'] / naive['peak_rss_mb']:.1f}x, "
        f"MASE {xgb['test_mase'] / naive['test_mase']:.3f}"
    )


if __name__ == "__main__":
    main()
