"""Recommendation: the next products each customer is likely to take up, best first.

Interactions (user, item, optional weight and time) are collapsed into (user, item) pairs.
For each user with at least `min_interactions` items, the test holds out (task.split)
leave_last_n: the last `test_items` items, or ratio: a share `test_fraction` of the user's
items (stratified per user, the protocol of most published benchmarks, e.g. 75 / 25); the
items held out are the latest (task.order=time) or drawn at random with the seed. Validation
is held out the same way from what is left; everything else, lighter users' pairs included,
trains.
Metrics at k count only items new to the user: the recommender never lists what the user
had in training. The gate's units are test users, and the baseline to beat is popularity.

Over 300 lines: the task fills in the whole Task contract, and the gate's per-user metric
memo lives beside the metrics it memoises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from growthlab.data.dataset import Columns
from growthlab.data.interactions import (
    WEIGHT,
    collapse_pairs,
    filter_min_interactions,
    holdout_mask,
    holdout_share,
)
from growthlab.errors import UserError, whole_number
from growthlab.metrics.ranking import (
    FUNCTIONS,
    PER_USER,
    catalogue_coverage,
    mean_metrics,
    metric_curve,
    novelty,
)
from growthlab.models.recommenders import Popularity, Recommender
from growthlab.plots.recommendation import long_tail_figure, metrics_at_k_figure
from growthlab.tasks import LABEL, Evaluation, Part, Prepared, Task

POPULAR = "__popular__"  # holdout column: the popularity baseline's list for the user
SPLITS = ("leave_last_n", "ratio")
ORDERS = ("auto", "time", "random")  # auto: by time when dataset.columns.time is set
# Older spellings: task.split named only the order of a leave-last-n split.
MIN_USERS = 20
TRAINING_ONLY = ("catalogue_coverage", "novelty")  # need the training data: not on the holdout


@dataclass
class InteractionData(Prepared):
    """Splits of (user, item) pairs, and the items' attributes when the data has any."""

    item_attributes: pd.DataFrame | None = None

    def with_valid_in_train(self) -> InteractionData:
        """The validation pairs go back into training (the refit after tuning)."""
        train, valid = self.parts["train"], self.parts["valid"]
        merged = Part(
            pd.concat([train.X, valid.X], ignore_index=True), np.concatenate([train.y, valid.y])
        )
        parts = {**self.parts, "train": merged}
        info = {**self.info, "refit_on": "train+valid"}
        return InteractionData(parts, info, self.schema, self.item_attributes)


class Recommendation(Task):
    """Top-k item lists per user from implicit feedback, judged against popularity."""

    output = "recommendations"
    output_column = "items"  # the pyfunc's ranked list, the gate's predictions

    def __init__(
        self,
        name: str = "recommendation",
        k: int = 10,
        test_items: int = 1,
        min_interactions: int = 3,
        split: str = "leave_last_n",
        order: str = "auto",
        test_fraction: float = 0.25,
        seed: int = 0,
    ) -> None:
        whole_number(k, "task.k")
        whole_number(test_items, "task.test_items")
        if not isinstance(min_interactions, int) or min_interactions < 2 * test_items + 1:
            raise UserError(
                f"task.min_interactions={min_interactions!r} must be at least "
                f"2 * task.test_items + 1 = {2 * test_items + 1}: each user needs items in "
                "train, valid and test"
            )
        if split in ORDERS:  # the older spelling: task.split=time meant leave-last-n by time
            if order != "auto":
                raise UserError(
                    f"task.split={split!r} with task.order={order!r}: write "
                    f"task.split=leave_last_n task.order={order}"
                )
            split, order = "leave_last_n", split
        if split not in SPLITS:
            raise UserError(f"task.split={split!r}; use one of {', '.join(SPLITS)}")
        if order not in ORDERS:
            raise UserError(f"task.order={order!r}; use one of {', '.join(ORDERS)}")
        if (
            isinstance(test_fraction, bool)
            or not isinstance(test_fraction, int | float)
            or not 0 < test_fraction < 1
        ):
            raise UserError(
                f"task.test_fraction={test_fraction!r}; use a share of each user's items in "
                "(0, 1), e.g. 0.25"
            )
        self.name = name
        self.k = k
        self.test_items = test_items
        self.min_interactions = min_interactions
        self.split = split
        self.order = order
        self.test_fraction = float(test_fraction)
        self.seed = seed

    # --- names -----------------------------------------------------------------------------

    @property
    def objective(self) -> str:
        return f"ndcg_at_{self.k}"

    @property
    def predict_params(self) -> dict[str, object]:
        return {"k": self.k}  # REST callers may ask for longer or shorter lists

    @property
    def floors(self) -> dict[str, float]:
        return {}  # beating popularity (the baseline check) is the bar

    @property
    def headline(self) -> tuple[str, ...]:
        k = self.k
        return (f"ndcg_at_{k}", f"popularity_ndcg_at_{k}", f"recall_at_{k}",
                f"hit_rate_at_{k}", "catalogue_coverage", "novelty")  # fmt: skip

    def metric_names(self) -> list[str]:
        return [f"{name}_at_{self.k}" for name in PER_USER] + list(TRAINING_ONLY)

    # --- data ------------------------------------------------------------------------------

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> InteractionData:
        self.require_rows(frame, "the interactions")
        if not (columns.user and columns.item):
            raise UserError(
                "recommendation needs dataset.columns.user and dataset.columns.item "
                "(who interacted with what)"
            )
        columns.check(frame, "the data")
        if self.order == "time" and not columns.time:
            raise UserError("task.order=time needs dataset.columns.time (or use task.order=auto)")
        user, item = columns.user, columns.item
        time = columns.time if self.order in ("auto", "time") else None
        pairs = collapse_pairs(frame, user, item, columns.weight, time)
        # Light users are never held out, but their pairs still train: the model then knows
        # what they have (kNN and EASE use it; their own items are never recommended back).
        heavy = filter_min_interactions(pairs, user, self.min_interactions)[user].unique()
        eligible = pairs[user].isin(heavy).to_numpy()
        n_users = len(heavy)
        if n_users < MIN_USERS:
            raise UserError(
                f"only {n_users} users have at least task.min_interactions="
                f"{self.min_interactions} distinct items; recommendation needs {MIN_USERS}: "
                "lower task.min_interactions or use more data"
            )
        weight = columns.weight or WEIGHT
        test = self.held_out(pairs, user, time, self.seed) & eligible
        rest = pairs[~test].reset_index(drop=True)
        valid = self.held_out(rest, user, time, self.seed + 1) & eligible[~test]
        chosen = {"train": rest[~valid], "valid": rest[valid], "test": pairs[test]}
        parts = {
            split: Part(rows[[user, item]].reset_index(drop=True), rows[weight].to_numpy(float))
            for split, rows in chosen.items()
        }
        attributes = [c for c in columns.categorical if c in frame and c not in (user, item)]
        info: dict[str, Any] = {
            "split": {
                ("ratio", True): "ratio_by_time",
                ("ratio", False): "ratio_random_per_user",
                ("leave_last_n", True): "leave_last_out_by_time",
                ("leave_last_n", False): "random_holdout_per_user",
            }[self.split, bool(time)],
            "rows_in": len(frame),
            "pairs": len(pairs),
            "users": pairs[user].nunique(),
            "users_evaluated": n_users,
            "items": pairs[item].nunique(),
            "min_interactions": self.min_interactions,
            "test_share": self.test_fraction if self.split == "ratio" else "none",
            "item_attributes": ",".join(attributes) or "none",
        }
        for split, part in parts.items():
            info[f"{split}_pairs"] = len(part.X)
            info[f"{split}_users"] = part.X[user].nunique()
        item_attributes = frame.groupby(item)[attributes].first() if attributes else None
        schema = {"user": user, "item": item, "k": self.k}
        return InteractionData(parts, info, schema, item_attributes)

    def held_out(self, pairs: pd.DataFrame, user: str, time: str | None, seed: int) -> np.ndarray:
        """Each user's held-out pairs: the last test_items, or a test_fraction share of them."""
        if self.split == "ratio":
            return holdout_share(pairs, user, self.test_fraction, time, seed)
        return holdout_mask(pairs, user, self.test_items, time, seed)

    # --- training --------------------------------------------------------------------------

    def fit(
        self, model: BaseEstimator, data: Prepared, report: Callable | None = None
    ) -> BaseEstimator:
        train = data.parts["train"]
        return model.fit(train.X, train.y)

    def validate(
        self, new_model: Callable[[], BaseEstimator], data: Prepared, report: Callable | None = None
    ) -> dict[str, float]:
        """Fit a fresh model on train and score NDCG@k (and the rest) on the valid users."""
        model = self.fit(new_model(), data)
        metrics = self.score(model, data.parts["valid"], data.schema)
        if report is not None:
            report(0, metrics[self.objective])
        return metrics

    def score(
        self, model: BaseEstimator, part: Part, schema: Mapping[str, Any], k: int | None = None
    ) -> dict[str, float]:
        """Every metric of the model on one split's users (k defaults to task.k)."""
        relevant = self.relevant(part, schema)
        lists = _recommender(model).recommend(relevant.index.to_numpy(), k or self.k)
        return self._metrics(_recommender(model), list(relevant), lists, k or self.k)

    @staticmethod
    def relevant(part: Part, schema: Mapping[str, Any]) -> pd.Series:
        """Each user's items in a split (user -> list of items), users in order of appearance."""
        return part.X.groupby(schema["user"], sort=False)[schema["item"]].agg(list)

    @staticmethod
    def _metrics(
        recommender: Recommender, relevant: list[Any], lists: list[list[Any]], k: int
    ) -> dict[str, float]:
        shares = recommender.popularity_ / len(recommender.users_)
        popularity = dict(zip(recommender.items_.tolist(), shares, strict=True))
        return {
            **mean_metrics(relevant, lists, k),
            "catalogue_coverage": catalogue_coverage(lists, len(recommender.items_)),
            "novelty": novelty(lists, popularity),
        }

    # --- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, model: BaseEstimator, data: Prepared, splits: Sequence[str] = ("valid", "test")
    ) -> Evaluation:
        """Metrics per split, popularity's on test beside them, curves over k, the long tail."""
        result = Evaluation()
        recommender = _recommender(model)
        for split in dict.fromkeys([*splits, "test"]):  # each split is recommended for once
            relevant = self.relevant(data.parts[split], data.schema)
            lists = recommender.recommend(relevant.index.to_numpy(), self.k)
            if split in splits:
                metrics = self._metrics(recommender, list(relevant), lists, self.k)
                result.metrics.update({f"{split}_{name}": v for name, v in metrics.items()})
        train = data.parts["train"]
        baseline = Popularity().fit(train.X, train.y)
        popular = baseline.recommend(relevant.index.to_numpy(), self.k)
        for name, value in self._metrics(baseline, list(relevant), popular, self.k).items():
            result.metrics[f"test_popularity_{name}"] = value
        ks = list(range(1, self.k + 1))
        curves = {m: metric_curve(list(relevant), lists, ks, m) for m in ("recall", "ndcg")}
        base = {m: metric_curve(list(relevant), popular, ks, m) for m in ("recall", "ndcg")}
        result.figures["test_metrics_at_k"] = metrics_at_k_figure(ks, curves, base)
        counts = pd.Series([i for items in lists for i in items]).value_counts()
        recommended = counts.reindex(recommender.items_, fill_value=0).to_numpy()
        result.figures["test_long_tail"] = long_tail_figure(recommender.popularity_, recommended)
        table = pd.DataFrame(
            {
                "item": recommender.items_,
                "training_users": recommender.popularity_.astype(int),
                "test_recommendations": recommended,
            }
        ).sort_values("training_users", ascending=False, ignore_index=True)
        result.tables["test_recommended_items"] = table
        attributes = getattr(data, "item_attributes", None)
        if attributes is not None:
            for column in attributes.columns:
                result.tables[f"test_coverage_by_{column}"] = _coverage_by(
                    table, attributes[column]
                )
        return result

    # --- the logged model and the gate -----------------------------------------------------

    def input_example(self, data: Prepared) -> pd.DataFrame:
        user = data.schema["user"]
        users = data.parts["test"].X[user].drop_duplicates()
        return pd.DataFrame({user: users.head(5).to_numpy()})

    def holdout(self, data: Prepared) -> pd.DataFrame:
        """One row per test user: their test items and popularity's list (minus their own)."""
        train = data.parts["train"]
        relevant = self.relevant(data.parts["test"], data.schema)
        popular = Popularity().fit(train.X, train.y).recommend(relevant.index.to_numpy(), self.k)
        users = relevant.index.to_numpy()
        return pd.DataFrame({data.schema["user"]: users, LABEL: list(relevant), POPULAR: popular})

    def outcomes(
        self, holdout: pd.DataFrame, schema: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        y = np.empty((len(holdout), 2), dtype=object)
        y[:, 0] = _objects(holdout[LABEL])
        y[:, 1] = _objects(holdout[POPULAR])
        return holdout[[schema["user"]]], y

    def metrics_of(self, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
        """The per-user metrics on the gate's units (coverage and novelty need training data)."""
        return mean_metrics(list(np.asarray(y)[:, 0]), list(predictions), self.k)

    def metric_function(self, name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        """One metric of (y, predictions), per user values memoised across bootstrap resamples."""
        if name in TRAINING_ONLY:
            raise UserError(
                f"{name} needs the training data, not only the holdout: gate on "
                f"{self.objective} (registry.gate.metric) and put a floor on {name} instead"
            )
        metric = FUNCTIONS[name.removesuffix(f"_at_{self.k}")]
        memo: dict[tuple[int, int], float] = {}
        keep: list[Any] = []  # holds the rows alive, so their ids stay unique

        def value(y: np.ndarray, predictions: np.ndarray) -> float:
            total = 0.0
            for relevant, ranked in zip(np.asarray(y)[:, 0], predictions, strict=True):
                key = (id(relevant), id(ranked))
                if key not in memo:
                    memo[key] = metric(relevant, ranked, self.k)
                    keep.append((relevant, ranked))
                total += memo[key]
            return total / max(len(predictions), 1)

        return value

    def baseline_scores(self, y: np.ndarray, X: pd.DataFrame | None = None) -> np.ndarray:
        """Popularity's list for each test user, computed at training (not their own items)."""
        return np.asarray(y)[:, 1]


def _objects(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of lists (numpy would stack lists of equal length into 2-D)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


def _recommender(model: BaseEstimator) -> Recommender:
    return model[-1] if isinstance(model, Pipeline) else model


def _coverage_by(items: pd.DataFrame, attribute: pd.Series) -> pd.DataFrame:
    """Per attribute level: items in the catalogue, items recommended, their share."""
    level = attribute.reindex(items["item"]).to_numpy()
    table = pd.DataFrame({"level": level, "shown": items["test_recommendations"].to_numpy() > 0})
    summary = table.groupby("level", dropna=False)["shown"].agg(items="size", recommended="sum")
    summary["coverage"] = summary["recommended"] / summary["items"]
    return summary.reset_index()
