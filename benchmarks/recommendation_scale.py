"""Recommenders at scale: fit time, time to recommend for every user, peak RSS, NDCG@10.

Simulates customer x product purchases with the project's simulator (planted tastes, a long
tail; ~1,000,000 lines of 100,000 customers and 20,000 products by default), splits them as
the recommendation task does (leave-last-out by time for users with >= 3 items) and saves the
pairs. Each model then runs in its own child process, so its peak RSS (resource.getrusage,
Linux) is its own: fit on train, top-10 for every training user, NDCG@10 on the test users.
EASE needs a dense items x items float32 matrix (4 n^2 bytes: 1.6 GB at 20,000 items).

    python benchmarks/recommendation_scale.py [--customers 100000] [--products 20000]
        [--mean-products 8.7] [--models popularity,item_knn,ease,als,bpr] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

MODELS = {
    "popularity": ("Popularity", {}),
    "item_knn": ("ItemKNN", {"neighbours": 100, "shrinkage": 10.0}),
    "ease": ("EASE", {"l2": 200.0}),
    "als": ("ALS", {"factors": 64, "regularization": 1.0, "alpha": 5.0, "iterations": 15}),
    "bpr": ("BPR", {"factors": 64, "learning_rate": 0.01, "iterations": 100}),
}
K = 10


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def prepare(args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """Simulate, split like the task, save train and test pairs; return the sizes and times."""
    from growthlab.data.dataset import Columns
    from growthlab.data.simulator import INTERACTIONS_COLUMNS, MarketingSimulator
    from growthlab.tasks.recommendation import Recommendation

    started = time.perf_counter()
    lines = MarketingSimulator(args.seed).interactions(
        args.customers, args.products, mean_products=args.mean_products
    )
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    data = Recommendation().prepare(lines, Columns.from_mapping(INTERACTIONS_COLUMNS))
    split = time.perf_counter() - started
    train = data.with_valid_in_train().parts["train"]
    train.X.assign(weight=train.y).to_parquet(folder / "train.parquet")
    data.parts["test"].X.to_parquet(folder / "test.parquet")
    return {
        "lines": len(lines),
        "pairs": data.info["pairs"],
        "users": data.info["users"],
        "users_evaluated": data.info["users_evaluated"],
        "items": data.info["items"],
        "simulate_s": simulated,
        "split_s": split,
    }


def child(name: str, folder: Path) -> None:
    """One model: fit, recommend for all users, score the test users; print one JSON line."""
    from growthlab.metrics.ranking import mean_metrics
    from growthlab.models import recommenders

    train = pd.read_parquet(folder / "train.parquet")
    test = pd.read_parquet(folder / "test.parquet")
    loaded = peak_rss_mb()
    cls, params = MODELS[name]
    model = getattr(recommenders, cls)(**params)
    started = time.perf_counter()
    model.fit(train.iloc[:, :2], train["weight"].to_numpy())
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    lists = model.recommend(model.users_.to_numpy(), K)
    recommend_s = time.perf_counter() - started
    relevant = test.groupby(test.columns[0]).agg(list).iloc[:, 0]
    position = model.users_.get_indexer(relevant.index)
    ndcg = mean_metrics(list(relevant), [lists[p] for p in position], K)[f"ndcg_at_{K}"]
    result = {
        "model": name,
        "fit_s": fit_s,
        "recommend_s": recommend_s,
        "users": len(lists),
        "rss_loaded_mb": loaded,
        "peak_rss_mb": peak_rss_mb(),
        "ndcg_at_10": ndcg,
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--mean-products", type=float, default=8.7)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.folder))
        return
    with tempfile.TemporaryDirectory() as folder:
        sizes = prepare(args, Path(folder))
        print(
            f"{sizes['lines']:,} purchase lines -> {sizes['pairs']:,} (customer, product) pairs; "
            f"{sizes['users']:,} customers ({sizes['users_evaluated']:,} with >= 3 products), "
            f"{sizes['items']:,} products; simulated in {sizes['simulate_s']:.1f}s, "
            f"split in {sizes['split_s']:.1f}s"
        )
        print(f"EASE's dense item-item matrix: {4 * sizes['items'] ** 2 / 1e9:.2f} GB float32\n")
        header = f"{'model':<11}{'fit s':>9}{'recommend s':>13}{'users':>9}{'peak RSS MB':>13}"
        print(header + f"{'(data MB)':>11}{'NDCG@10':>9}{'x popularity':>14}")
        base = None
        for name in args.models.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--child", name, "--folder", folder],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                print(f"{name:<11} failed: {done.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            base = r["ndcg_at_10"] if name == "popularity" else base
            ratio = f"{r['ndcg_at_10'] / base:.2f}" if base else "-"
            print(
                f"{name:<11}{r['fit_s']:>9.1f}{r['recommend_s']:>13.1f}{r['users']:>9,}"
                f"{r['peak_rss_mb']:>13,.0f}{r['rss_loaded_mb']:>11,.0f}"
                f"{r['ndcg_at_10']:>9.4f}{ratio:>14}"
            )


if __name__ == "__main__":
    main()
