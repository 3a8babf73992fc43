"""Customer value on the simulator's log: XGBoost Tweedie vs BG/NBD x Gamma-Gamma vs naive.

Simulates SimulatedTransactions (a buy-till-you-die process), builds value snapshots at
`--cutoffs` cutoffs `--horizon` days apart (build_value_snapshots), trains XGBoost (the
parameters of conf/model/xgboost_regressor.yaml) on every cutoff but the last and scores the
last one, whose future spend is known. BG/NBD x Gamma-Gamma fits on the last cutoff's history
alone (it needs no labels); naive repeats the spend of the horizon before the cutoff. Prints
normalised Gini, MAE, aggregate error, value captured by the top 10 % and fit seconds.

    python benchmarks/customer_value.py [--customers 20000] [--horizon 90] [--cutoffs 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from growthlab.data.simulator import SimulatedTransactions
from growthlab.data.snapshots import CUTOFF, snapshot_cutoffs
from growthlab.data.value_targets import NAIVE, PURCHASES, SPEND, build_value_snapshots
from growthlab.metrics.value import value_metrics
from growthlab.models.btyd import BetaGeoGammaGamma
from growthlab.paths import CONF_DIR

COLUMNS = {"id": "customer_id", "time": "timestamp", "amount": "amount", "channel": "channel"}


def xgboost_params(seed: int) -> dict[str, object]:
    """The model section of conf/model/xgboost_regressor.yaml, without Hydra."""
    model = OmegaConf.load(CONF_DIR / "model" / "xgboost_regressor.yaml")["model"]
    raw = OmegaConf.to_container(model, resolve=False)  # random_state is ${seed}: set here
    params = {k: v for k, v in raw.items() if k not in ("_target_", "random_state")}
    return {**params, "random_state": seed}


def snapshots(customers: int, horizon: int, count: int, seed: int) -> pd.DataFrame:
    """Value snapshots of the simulated log at `count` cutoffs `horizon` days apart."""
    log = SimulatedTransactions("bench", COLUMNS, n_customers=customers, seed=seed).load()
    cutoffs = snapshot_cutoffs(log["timestamp"], horizon, horizon, count, history_days=180)
    return build_value_snapshots(
        log,
        cutoffs,
        id_col="customer_id",
        time_col="timestamp",
        amount_col="amount",
        channel_col="channel",
        horizon_days=horizon,
    )


def timed(fit: Callable[[], Callable[[], np.ndarray]]) -> tuple[np.ndarray, float]:
    """(predictions, seconds spent in `fit`), where `fit` returns the predict callable."""
    t0 = time.perf_counter()
    predict = fit()
    seconds = time.perf_counter() - t0
    return predict(), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--cutoffs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    table = snapshots(args.customers, args.horizon, args.cutoffs, args.seed)
    built = time.perf_counter() - t0
    last = table[CUTOFF].max()
    train, test = table[table[CUTOFF] < last], table[table[CUTOFF] == last]
    features = [c for c in table.columns if c not in ("customer_id", CUTOFF, SPEND, PURCHASES)]
    print(
        f"{args.customers:,} simulated customers, {table[CUTOFF].nunique()} cutoffs "
        f"{args.horizon} days apart, {len(table):,} snapshot rows in {built:.1f} s; "
        f"test cutoff {last:%Y-%m-%d}: {len(test):,} customers, "
        f"{(test[SPEND] > 0).mean():.1%} buy in the next {args.horizon} days"
    )

    def xgboost():
        from xgboost import XGBRegressor

        model = XGBRegressor(**xgboost_params(args.seed)).fit(train[features], train[SPEND])
        return lambda: model.predict(test[features])

    def btyd():
        model = BetaGeoGammaGamma(horizon_days=args.horizon).fit(test[features])
        return lambda: model.predict(test[features])

    results = {
        "xgboost tweedie": timed(xgboost),
        "bg/nbd x gamma-gamma": timed(btyd),
        "naive (last horizon)": (test[NAIVE].to_numpy(), 0.0),
    }
    actual = test[SPEND].to_numpy()
    print(f"{'model':<22}{'norm. Gini':>11}{'MAE':>9}{'agg. err %':>11}", end="")
    print(f"{'top 10%':>9}{'fit s':>7}")
    for name, (predicted, seconds) in results.items():
        m = value_metrics(actual, predicted, shares=(0.1,))
        print(
            f"{name:<22}{m['normalized_gini']:>11.3f}{m['mae']:>9.1f}"
            f"{m['aggregate_error_pct']:>+11.1f}{m['value_captured_at_10pct']:>9.1%}{seconds:>7.2f}"
        )


if __name__ == "__main__":
    main()
