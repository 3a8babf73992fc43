"""How close each uplift learner gets to the oracle on the simulated campaign.

Simulates N customers (``MarketingSimulator(seed).campaign``), splits them at random in half,
fits each meta-learner with the XGBoost settings of ``conf/model/<learner>.yaml`` on one half
and scores the other. Prints per learner: the test Qini coefficient as a share of the oracle's
(the true uplift as score, same rows), the normalised Qini, uplift in the top 10 % and 30 %,
and the fit time. A "response model" (P(convert) of a classifier trained on treated customers
only, the usual propensity-to-buy targeting) is the contrast the issue asks to beat.

    nice -n 10 .venv/bin/python benchmarks/uplift_learners.py --customers 50000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from xgboost import XGBClassifier, XGBRegressor

from growthlab.data.dataset import Columns
from growthlab.data.simulator import CAMPAIGN_COLUMNS, MarketingSimulator
from growthlab.metrics.uplift import qini_coefficient, uplift_at
from growthlab.models import tabular_pipeline
from growthlab.models.preprocessing import FrameEncoder
from growthlab.models.uplift import ClassTransformation, SLearner, TLearner, XLearner

# The inner XGBoost of conf/model/{s,t,x}_learner.yaml and class_transformation.yaml.
XGB: dict[str, Any] = {
    "n_estimators": 200,
    "max_depth": 3,
    "learning_rate": 0.05,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "min_child_weight": 50.0,
    "tree_method": "hist",
    "enable_categorical": True,
    "max_cat_to_onehot": 1,
    "n_jobs": 2,
}


def learners(seed: int) -> dict[str, Callable[[], Any]]:
    """Fresh, unfitted models by name; the response model is a plain pipeline."""
    clf = XGBClassifier(**XGB, random_state=seed)
    reg = XGBRegressor(**XGB, random_state=seed)
    return {
        "s_learner": lambda: SLearner(clf, FrameEncoder()),
        "t_learner": lambda: TLearner(clf, FrameEncoder()),
        "x_learner": lambda: XLearner(clf, FrameEncoder(), effect_estimator=reg),
        "class_transformation": lambda: ClassTransformation(clf, FrameEncoder()),
        "response_model": lambda: tabular_pipeline(FrameEncoder(), XGBClassifier(**XGB)),
    }


def split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random half for training, the other half for testing."""
    train = np.random.default_rng(seed).random(len(frame)) < 0.5
    return frame[train], frame[~train]


def score(name: str, make: Callable[[], Any], train: pd.DataFrame, test: pd.DataFrame) -> tuple:
    """(test scores, fit seconds) of one model."""
    columns = Columns.from_mapping(CAMPAIGN_COLUMNS)
    X_train = columns.features(train).assign(treatment=train["treatment"])
    X_test = columns.features(test)
    start = time.perf_counter()
    if name == "response_model":
        treated = train["treatment"] == 1
        model = make().fit(X_train[treated].drop(columns="treatment"), train["converted"][treated])
        seconds = time.perf_counter() - start
        return model.predict_proba(X_test)[:, 1], seconds
    model = make().fit(X_train, train["converted"])
    seconds = time.perf_counter() - start
    return model.predict_uplift(X_test), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    frame = MarketingSimulator(args.seed).campaign(args.customers)
    train, test = split(frame, args.seed)
    y, t = test["converted"].to_numpy(), test["treatment"].to_numpy()
    oracle = qini_coefficient(y, t, test["true_uplift"])
    print(f"{args.customers:,} customers, {len(test):,} test rows; oracle Qini {oracle:.1f}")
    header = f"{'model':<22}{'qini/oracle':>12}{'qini_norm':>11}{'upl@10%':>9}{'upl@30%':>9}"
    print(header + f"{'fit s':>8}")
    rows = [("oracle", test["true_uplift"].to_numpy(), 0.0)]
    rows += [(name, *score(name, make, train, test)) for name, make in learners(args.seed).items()]
    for name, scores, seconds in rows:
        qini = qini_coefficient(y, t, scores)
        norm = qini_coefficient(y, t, scores, normalize=True)
        top10, top30 = uplift_at(y, t, scores, 0.1), uplift_at(y, t, scores, 0.3)
        print(
            f"{name:<22}{qini / oracle:>12.1%}{norm:>11.4f}{top10:>9.2%}{top30:>9.2%}"
            f"{seconds:>8.1f}"
        )


if __name__ == "__main__":
    main()
