"""Test ROC AUC of growthlab's tuned XGBoost against FLAML's AutoML at the same time budget.

For each dataset, in this process, one after the other:

* growthlab: the composed config with ``tuner=tpe tuner.timeout=BUDGET`` (Optuna on the valid
  split, or by k-fold on train + valid when the training part is below ``task.cv_below_rows``;
  then the best params refitted on train + valid and scored once on test), run through
  ``growthlab.runner.run`` with a fresh temporary MLflow store;
* FLAML: ``AutoML().fit(train + valid, task="classification", metric="roc_auc",
  time_budget=BUDGET)``, which picks its own holdout or cross-validation inside train + valid,
  then scores on the same test rows.

The split is growthlab's own: out-of-time on ``created_at`` for the simulated leads, stratified
(valid 0.2, test 0.2, the config's seed) for the telecom churn table; the script rebuilds it with
``growthlab.data.split`` and checks it matches the run's. Both systems see the same raw feature
columns (``Columns.features``; text as pandas categories for FLAML). The difference of test AUCs
(growthlab - FLAML) gets a 95 % paired bootstrap interval over test rows. Target: growthlab's
test AUC at least FLAML's minus 0.002. "wall s" of growthlab is the whole run (data, tuning, the
last trial's overrun of the timeout, refit, plots, logging); FLAML's is ``fit`` alone.

On a loaded machine XGBoost's and LightGBM's OpenMP threads spin-wait for each other and a
trial can take several times longer: the result then depends on ``OMP_WAIT_POLICY`` (printed
with the table; ``PASSIVE`` avoids the spinning).

    pip install -e '.[bench]'      # flaml and lightgbm; never flaml[automl] (it pulls xgboost)
    python benchmarks/flaml_comparison.py [--budget 120] [--rows 50000] [--datasets leads,churn]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import growthlab.cli  # noqa: F401  (registers the growthlab_root resolver)
from growthlab.build import build
from growthlab.data.split import out_of_time_split, stratified_split
from growthlab.paths import CONF_DIR, ROOT
from growthlab.tasks.lead_scoring import binary_target

TOLERANCE = 0.002
CHURN_CSV = ROOT.parent / "shared" / "data" / "telecom_churn_mlc.csv"
DATASETS = {
    "leads": ["dataset=simulated_leads"],
    "churn": ["dataset=telecom_churn"],
}
# FLAML's own default list for classification, less what is not installed here (catboost),
# and less sgd (a linear model; lrl1 stays).
ESTIMATORS = ["lgbm", "rf", "xgboost", "extra_tree", "xgb_limitdepth", "lrl1"]


@dataclass
class Result:
    dataset: str
    system: str
    wall: float
    trials: int
    test_auc: float
    note: str
    scores: np.ndarray


def compose(overrides: list[str]) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


def split_like_growthlab(cfg: Any) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """The raw features, 0/1 labels and row positions per split, as the runner makes them."""
    dataset, task = build(cfg.dataset, "dataset"), cfg.task
    frame, columns = dataset.load(), dataset.columns
    y = binary_target(frame[columns.target], columns.positive_label)
    if columns.time:
        rows = out_of_time_split(frame[columns.time], task.valid_size, task.test_size)
    else:
        rows = stratified_split(y, task.valid_size, task.test_size, task.seed)
    return columns.features(frame), y, rows


def run_growthlab(name: str, cfg: Any) -> Result:
    from growthlab.runner import run

    started = time.perf_counter()
    result = run(cfg)
    wall = time.perf_counter() - started
    assert result is not None
    test = result.data.parts["test"]
    scores = result.model.predict_proba(test.X)[:, 1]
    m = result.metrics
    trials = int(m.get("trials_complete", 0) + m.get("trials_pruned", 0))
    note = f"xgboost, {cfg.tuner.sampler}, pruner {cfg.tuner.pruner}"
    return Result(name, "growthlab", wall, trials, m["test_roc_auc"], note, scores)


def run_flaml(
    name: str, X: pd.DataFrame, y: np.ndarray, rows: dict[str, np.ndarray], budget: float, seed: int
) -> Result:
    from flaml import AutoML

    # FLAML handles category columns; pandas' str columns it would treat as free text.
    text = [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c]) or X[c].dtype == bool)]
    X = X.astype(dict.fromkeys(text, "category"))
    fit_rows = np.sort(np.concatenate([rows["train"], rows["valid"]]))
    automl = AutoML()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(
            X.iloc[fit_rows],
            y[fit_rows],
            task="classification",
            metric="roc_auc",
            time_budget=budget,
            estimator_list=ESTIMATORS,
            seed=seed,
            verbose=0,
        )
    wall = time.perf_counter() - started
    scores = automl.predict_proba(X.iloc[rows["test"]])[:, 1]
    auc = float(roc_auc_score(y[rows["test"]], scores))
    trials = sum(automl._iter_per_learner.values())  # no public count of trials
    return Result(name, "FLAML", wall, trials, auc, str(automl.best_estimator), scores)


def weighted_auc(groups: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC per row of weights (resample counts), from score ranks shared by all rows."""
    n_groups = groups.max() + 1
    offsets = np.arange(len(weights))[:, None] * n_groups
    flat = (groups[None, :] + offsets).ravel()
    size = len(weights) * n_groups
    pos = np.bincount(flat, (weights * y).ravel(), size).reshape(len(weights), n_groups)
    neg = np.bincount(flat, (weights * (1 - y)).ravel(), size).reshape(len(weights), n_groups)
    below = np.cumsum(neg, axis=1) - neg
    return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def paired_bootstrap(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, resamples: int, seed: int
) -> tuple[float, float]:
    """95 % interval of AUC(a) - AUC(b), resampling test rows with replacement (paired)."""
    rng = np.random.default_rng(seed)
    groups_a = np.unique(a, return_inverse=True)[1]
    groups_b = np.unique(b, return_inverse=True)[1]
    diffs = []
    for start in range(0, resamples, 100):
        count = min(100, resamples - start)
        picks = rng.integers(0, len(y), size=(count, len(y)))
        weights = np.stack([np.bincount(p, minlength=len(y)) for p in picks]).astype(float)
        diffs.append(weighted_auc(groups_a, y, weights) - weighted_auc(groups_b, y, weights))
    low, high = np.nanpercentile(np.concatenate(diffs), [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="seconds, for each system")
    parser.add_argument("--rows", type=int, default=50_000, help="simulated leads")
    parser.add_argument("--datasets", default="leads,churn", help="leads, churn or both")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for growthlab")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%X")
    logging.getLogger("growthlab").setLevel(logging.INFO)

    results: list[Result] = []
    lines: list[str] = []
    for name in args.datasets.split(","):
        if name == "churn" and not CHURN_CSV.is_file():
            print(f"skipping churn: {CHURN_CSV} is absent")
            continue
        with tempfile.TemporaryDirectory(prefix="growthlab-flaml-") as store:
            overrides = [
                *DATASETS[name], "tuner=tpe", f"tuner.timeout={args.budget}",
                "tuner.n_trials=100000", "tuner.progress=false",
                f"tuner.study_name=bench-flaml-{name}-{os.getpid()}", f"seed={args.seed}",
                f"store={store}", f"run_name=bench-flaml-{name}", *args.overrides,
            ]  # fmt: skip
            if name == "leads":
                overrides.append(f"dataset.n_rows={args.rows}")
            cfg = compose(overrides)
            X, y, rows = split_like_growthlab(cfg)
            print(f"{name}: {len(y):,} rows, test {len(rows['test']):,}", flush=True)
            ours = run_growthlab(name, cfg)
            if len(ours.scores) != len(rows["test"]):
                raise SystemExit(f"{name}: the run's test split differs from the rebuilt one")
            print(f"  growthlab {ours.wall:.0f} s, test AUC {ours.test_auc:.4f}", flush=True)
            theirs = run_flaml(name, X, y, rows, args.budget, args.seed)
            print(f"  FLAML {theirs.wall:.0f} s, test AUC {theirs.test_auc:.4f}", flush=True)
        y_test = y[rows["test"]]
        check = roc_auc_score(y_test, ours.scores)
        if abs(check - ours.test_auc) > 1e-9:
            raise SystemExit(f"{name}: rebuilt test labels disagree with the run ({check})")
        low, high = paired_bootstrap(y_test, ours.scores, theirs.scores, args.resamples, args.seed)
        diff = ours.test_auc - theirs.test_auc
        verdict = "met" if diff >= -TOLERANCE else f"MISSED by {-TOLERANCE - diff:.4f}"
        lines.append(
            f"{name:6} growthlab - FLAML = {diff:+.4f}  95% CI [{low:+.4f}, {high:+.4f}]  "
            f"target >= -{TOLERANCE}: {verdict}"
        )
        results += [ours, theirs]

    policy = os.environ.get("OMP_WAIT_POLICY", "(unset)")
    print(
        f"\nbudget {args.budget:g} s per system; {args.resamples} paired bootstrap resamples; "
        f"OMP_WAIT_POLICY={policy}"
    )
    print(f"{'dataset':8} {'system':10} {'wall s':>7} {'trials':>6} {'test AUC':>8}  best")
    for r in results:
        print(
            f"{r.dataset:8} {r.system:10} {r.wall:7.1f} {r.trials:6d} {r.test_auc:8.4f}  {r.note}"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
