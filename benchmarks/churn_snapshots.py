"""How long building churn snapshots takes on a large transaction log (target: under 30 s).

Generates a synthetic log here with numpy (not the project's simulator): every customer starts
at a uniform time in a three-year window and buys for an exponential lifetime, with exponential
gaps between purchases, gamma amounts and one of four channels. Then picks 6 monthly cutoffs
(snapshot_cutoffs, 90-day horizon, 180 days of history) and times build_snapshots. Prints the
log size, the wall seconds of each step and the peak RSS (resource.getrusage). Linux only.

    python benchmarks/churn_snapshots.py [--rows 1000000] [--customers 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from growthlab.data.snapshots import build_snapshots, snapshot_cutoffs

TARGET_SECONDS = 30.0
CHANNELS = ["email", "paid_search", "social", "store"]
SPAN_DAYS = 3 * 365


def synthetic_log(rows: int, customers: int, seed: int) -> pd.DataFrame:
    """`rows` transactions of exactly `customers` customers, in shuffled row order."""
    rng = np.random.default_rng(seed)
    activity = rng.gamma(1.0, 1.0, customers)
    counts = 1 + rng.multinomial(rows - customers, activity / activity.sum())
    customer = np.repeat(np.arange(customers), counts)
    start = rng.uniform(0, SPAN_DAYS, customers)
    lifetime = np.minimum(rng.exponential(SPAN_DAYS / 2, customers), SPAN_DAYS - start)
    # Exponential gaps, scaled so a customer's purchases spread over about its lifetime.
    gaps = rng.exponential(1.0, rows) * (lifetime / counts)[customer]
    block = np.concatenate([[0], np.cumsum(counts)[:-1]])[customer]
    cumulative = np.cumsum(gaps)
    days = np.minimum(start[customer] + cumulative - cumulative[block], SPAN_DAYS - 1e-6)
    seconds = np.round(days * 86_400).astype(np.int64)
    channel_weights = rng.dirichlet(np.ones(len(CHANNELS)) * 2, customers)[customer]
    channel = (rng.random(rows)[:, None] > np.cumsum(channel_weights, axis=1)).sum(axis=1)
    order = rng.permutation(rows)
    return pd.DataFrame(
        {
            "customer_id": (customer + 10_000_000)[order],
            "ts": (np.datetime64("2022-01-01", "ns") + seconds.astype("timedelta64[s]"))[order],
            "amount": np.round(rng.gamma(2.0, 30.0, rows), 2)[order],
            "channel": pd.Categorical.from_codes(channel[order], CHANNELS),
        }
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    log = synthetic_log(args.rows, args.customers, args.seed)
    generated = time.perf_counter() - t0
    rss_log = peak_rss_mb()
    print(
        f"log: {len(log):,} transactions, {log['customer_id'].nunique():,} customers, "
        f"{log['ts'].min():%Y-%m-%d} to {log['ts'].max():%Y-%m-%d}, "
        f"{log.memory_usage(deep=True).sum() / 2**20:.0f} MB; generated in {generated:.2f} s, "
        f"peak RSS so far {rss_log:.0f} MB"
    )

    t0 = time.perf_counter()
    cutoffs = snapshot_cutoffs(log["ts"], horizon_days=90, every_days=30, count=6, history_days=180)
    snapshots = build_snapshots(
        log,
        cutoffs,
        id_col="customer_id",
        time_col="ts",
        amount_col="amount",
        channel_col="channel",
        horizon_days=90,
        active_window_days=180,
        windows=(30, 90, 180),
    )
    wall = time.perf_counter() - t0
    rss = peak_rss_mb()

    per_cutoff = snapshots.groupby("cutoff")["churned"].agg(["size", "mean"])
    print(f"cutoffs: {', '.join(f'{c:%Y-%m-%d}' for c in cutoffs)}")
    print(
        f"snapshots: {len(snapshots):,} rows x {snapshots.shape[1]} columns, "
        f"{per_cutoff['size'].min():,}-{per_cutoff['size'].max():,} customers per cutoff, "
        f"churn rate {snapshots['churned'].mean():.3f}"
    )
    verdict = "OK" if wall < TARGET_SECONDS else "SLOW"
    print(
        f"build: wall {wall:.2f} s (target < {TARGET_SECONDS:.0f} s: {verdict}), "
        f"peak RSS {rss:.0f} MB (+{rss - rss_log:.0f} MB over the generated log)"
    )


if __name__ == "__main__":
    main()
