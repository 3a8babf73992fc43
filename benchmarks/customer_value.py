"""Customer value on the simulator's log: XGBoost Tweedie vs BG/NBD x Gamma-Gamma vs naive.

Goes through the task itself (CustomerValue.prepare: snapshots at task.n_cutoffs cutoffs
task.every_days apart, out of time by cutoff), so the figures are the ones a run logs and the
gate compares: XGBoost (conf/model/xgboost_regressor.yaml) trained on the training cutoffs,
with and without the cutoff-month season feature; BG/NBD x Gamma-Gamma fitted on the test
cutoff's history alone (it needs no labels: the gate's baseline) and, as a model option, on the
training cutoffs; naive repeats the spend of the horizon before the cutoff. Prints normalised
Gini, MAE, aggregate error, value captured by the top 10 % and fit seconds on the test cutoff.

    python benchmarks/customer_value.py [--customers 20000] [--horizon 90] [--cutoffs 13] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from growthlab.data.simulator import SimulatedTransactions
from growthlab.metrics.value import value_metrics
from growthlab.models.btyd import BetaGeoGammaGamma
from growthlab.paths import CONF_DIR
from growthlab.tasks import Prepared
from growthlab.tasks.customer_value import SEASON, CustomerValue

COLUMNS = {"id": "customer_id", "time": "timestamp", "amount": "amount", "channel": "channel"}


def xgboost_params(seed: int) -> dict[str, object]:
    """The model section of conf/model/xgboost_regressor.yaml, without Hydra."""
    model = OmegaConf.load(CONF_DIR / "model" / "xgboost_regressor.yaml")["model"]
    raw = OmegaConf.to_container(model, resolve=False)  # random_state is ${seed}: set here
    params = {k: v for k, v in raw.items() if k not in ("_target_", "random_state")}
    return {**params, "random_state": seed}


def fitted(model: Any, data: Prepared, drop: tuple[str, ...] = ()) -> tuple[np.ndarray, float]:
    """(test predictions, fit seconds) of a model trained on the training cutoffs' spend."""
    train, test = data.parts["train"], data.parts["test"]
    started = time.perf_counter()
    model.fit(train.X.drop(columns=list(drop)), train.y[:, 0])
    seconds = time.perf_counter() - started
    return np.clip(model.predict(test.X.drop(columns=list(drop))), 0, None), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--cutoffs", type=int, default=13)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from xgboost import XGBRegressor

    dataset = SimulatedTransactions("bench", COLUMNS, n_customers=args.customers, seed=args.seed)
    log = dataset.load()
    task = CustomerValue(horizon_days=args.horizon, n_cutoffs=args.cutoffs, seed=args.seed)
    started = time.perf_counter()
    data = task.prepare(log, dataset.columns)
    built = time.perf_counter() - started
    test = data.parts["test"]
    print(
        f"{args.customers:,} simulated customers, {args.cutoffs} cutoffs "
        f"({data.info['cutoffs'].split(',')[0]} .. {data.info['cutoffs'].split(',')[-1]}), "
        f"{sum(len(p.X) for p in data.parts.values()):,} snapshot rows, prepared in {built:.1f} s "
        f"(BG/NBD baselines included); test: {len(test.X):,} customers, "
        f"{np.mean(test.y[:, 0] > 0):.1%} buy in the next {args.horizon} days"
    )
    params = xgboost_params(args.seed)
    results = {
        "xgboost tweedie": fitted(XGBRegressor(**params), data),
        "xgboost, no season": fitted(XGBRegressor(**params), data, (SEASON,)),
        "bg/nbd x gg (baseline)": (test.y[:, 1], float(data.info["test_bgnbd_fit_seconds"])),
        "bg/nbd x gg (model)": fitted(BetaGeoGammaGamma(horizon_days=args.horizon), data),
        "naive (last horizon)": (test.y[:, 2], 0.0),
    }
    actual = test.y[:, 0]
    print(f"{'model':<24}{'norm. Gini':>11}{'MAE':>9}{'agg. err %':>11}", end="")
    print(f"{'top 10%':>9}{'fit s':>7}")
    for name, (predicted, seconds) in results.items():
        m = value_metrics(actual, predicted, shares=(0.1,))
        print(
            f"{name:<24}{m['normalized_gini']:>11.3f}{m['mae']:>9.1f}"
            f"{m['aggregate_error_pct']:>+11.1f}{m['value_captured_at_10pct']:>9.1%}{seconds:>7.2f}"
        )


if __name__ == "__main__":
    main()
