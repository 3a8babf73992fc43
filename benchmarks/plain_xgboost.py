"""The baseline for runner_overhead.py: the experiment's XGBoost, trained without the framework.

Same simulator, seed and row count, same out-of-time split and the same XGBoost parameters as
the composed config of an experiment, with string columns as pandas ``category`` columns; no
Hydra, no MLflow, no plots. Prints one JSON line: the test ROC AUC and seconds per step.

    python benchmarks/plain_xgboost.py --rows 1000000             # composes the config first
    python benchmarks/plain_xgboost.py --spec '{"rows": ..., ...}' # what runner_overhead passes

With ``--spec`` the process never imports Hydra, so its wall time is the plain training alone.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from xgboost import XGBClassifier

from growthlab.data.simulator import MarketingSimulator
from growthlab.data.split import out_of_time_split

EXPERIMENT = "lead_scoring_xgboost"


def composed_spec(rows: int, experiment: str = EXPERIMENT) -> dict[str, Any]:
    """Data, split and model settings of the experiment, read from its composed Hydra config."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    import growthlab.cli  # noqa: F401  (registers the growthlab_root resolver)
    from growthlab.paths import CONF_DIR

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiments={experiment}", f"dataset.n_rows={rows}"])
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    dataset, task, columns = plain["dataset"], plain["task"], plain["dataset"]["columns"]
    if not dataset["_target_"].endswith("SimulatedLeads") or not columns.get("time"):
        raise SystemExit(f"{experiment}: the baseline needs simulated leads with a time column")
    singles = [columns.get(k) for k in ("id", "target", "time", "oracle")]
    excluded = (
        [c for c in singles if c] + list(columns.get("pii") or []) + list(columns.get("drop") or [])
    )
    return {
        "rows": dataset["n_rows"],
        "seed": dataset["seed"],
        "start": dataset.get("start", "2024-01-01"),
        "days": dataset.get("days", 730),
        "target": columns["target"],
        "time": columns["time"],
        "excluded": excluded,
        "valid_size": task["valid_size"],
        "test_size": task["test_size"],
        "params": {k: v for k, v in plain["model"].items() if k != "_target_"},
    }


def train(spec: dict[str, Any]) -> dict[str, Any]:
    """Simulate, split, fit and score on the test split; return the AUC and the step timings."""
    seconds: dict[str, float] = {}
    cpu = time.process_time()
    started = time.perf_counter()
    frame = MarketingSimulator(spec["seed"]).leads(spec["rows"], spec["start"], spec["days"])
    X = frame.drop(columns=spec["excluded"])
    for column in X.columns:
        if not (pd.api.types.is_numeric_dtype(X[column]) or pd.api.types.is_bool_dtype(X[column])):
            X[column] = X[column].astype("category")
    y = frame[spec["target"]].to_numpy(dtype=np.int64)
    rows = out_of_time_split(frame[spec["time"]], spec["valid_size"], spec["test_size"])
    seconds["load"] = time.perf_counter() - started

    started = time.perf_counter()
    model = XGBClassifier(**spec["params"])
    model.fit(X.iloc[rows["train"]], y[rows["train"]])
    seconds["fit"] = time.perf_counter() - started

    started = time.perf_counter()
    scores = model.predict_proba(X.iloc[rows["test"]])[:, 1]
    auc = float(roc_auc_score(y[rows["test"]], scores))
    seconds["predict"] = time.perf_counter() - started
    seconds["cpu"] = time.process_time() - cpu  # all threads, the three steps together
    return {"test_roc_auc": auc, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", help="JSON settings (default: compose the experiment config)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    spec = json.loads(args.spec) if args.spec else composed_spec(args.rows)
    print(json.dumps(train(spec)))


if __name__ == "__main__":
    main()
