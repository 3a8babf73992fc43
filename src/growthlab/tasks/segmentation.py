"""Segmentation: groups of customers that are distinct, big enough to act on, stable, and named.

Two input shapes, one task: a transaction log (dataset.columns.amount declared), from which
one row per customer is built by churn's snapshot code at a single cutoff (the day after the
last event unless task.cutoff says otherwise), or any customer feature table. Customers are
split at random into train / valid / test. Every segmentation is judged in one space, the
task's own encoding of the raw columns (SegmentEncoder: log of skewed columns, one-hot,
standardised), so k-means, a Gaussian mixture and the RFM rules are compared on equal terms.

Choosing k (the number of segments). Calinski-Harabasz, silhouette and Davies-Bouldin all
favour few segments on real customers (k = 2, "active" and "lapsed", is what they pick on a
purchase log), and two segments are not what a marketing team can act on. So the business
range governs: k is searched only in [task.min_segments, task.max_segments] (the search
spaces derive their n_clusters / n_components range from it), and a trial is feasible only
when its segments are stable (bootstrap ARI >= task.min_stability on the training customers)
and none is smaller than task.min_segment_share. Among feasible trials the study takes the
best separation (task.objective); an infeasible trial loses to every feasible one, the less
short of the floors the better. Separation then picks among segmentations a team can use
and trust, rather than trading a stable k for a few points of separation. Every k of the
range is scored the same way after training: the table and plot test_segment_choice.

Over 300 lines: two input shapes, the judging space, stability, the choice of k and the
profile table fill in the whole Task contract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from growthlab.data.dataset import Columns
from growthlab.data.snapshots import CUTOFF, build_snapshots, log_roles, log_to_score
from growthlab.data.split import stratified_split
from growthlab.errors import UserError, whole_number
from growthlab.metrics import clustering as cm
from growthlab.models.segment_profiles import (
    NamedSegments,
    bootstrap_stability,
    segment_profile,
)
from growthlab.models.segmenters import RFMSegmenter, SegmentEncoder
from growthlab.plots import segmentation as plots
from growthlab.tasks import Evaluation, Part, Prepared, Task, part_from_frame
from growthlab.tasks.base import Sampler

MIN_CUSTOMERS = 50
OBJECTIVES = ("silhouette", "calinski_harabasz", "davies_bouldin")
# What a trial scores when its smallest segment is below task.min_segment_share: it loses.
PENALTY = {"silhouette": -1.0, "calinski_harabasz": 0.0, "davies_bouldin": 1e6}


class Segmentation(Task):
    """Internal metrics on a fixed space, a minimum segment share, bootstrap stability."""

    minimized = ("davies_bouldin",)
    output = "segments"
    output_column = "segment"  # the gate compares segment ids on the holdout customers
    scores_logs = True  # trained on a log, it segments customers from a log at a cutoff
    headline = (
        "calinski_harabasz",
        "silhouette",
        "davies_bouldin",
        "n_segments",
        "min_segment_share",
        "stability_ari",
        "oracle_ari",
    )

    def __init__(
        self,
        name: str = "segmentation",
        objective: str = "calinski_harabasz",
        valid_size: float = 0.2,
        test_size: float = 0.2,
        min_segment_share: float = 0.05,
        min_segments: int = 3,
        max_segments: int = 8,
        min_stability: float = 0.8,
        stability_resamples: int = 10,
        stability_rows: int | None = 20_000,
        floors: dict[str, float] | None = None,
        silhouette_rows: int = 2000,
        gate_silhouette_rows: int = 500,
        log_skewed: bool = True,
        recency_column: str = "recency_days",
        frequency_column: str = "frequency_total",
        monetary_column: str = "monetary_total",
        features: Sequence[str] | None = None,
        cutoff: str | None = None,
        windows: Sequence[int] = (90, 365),
        key_features: int = 8,
        plot_rows: int = 2000,
        seed: int = 0,
    ) -> None:
        if objective not in OBJECTIVES:
            raise UserError(f"task.objective={objective!r}; use one of {', '.join(OBJECTIVES)}")
        if not 0 <= min_segment_share < 0.5:
            raise UserError(
                f"task.min_segment_share={min_segment_share} cannot hold for two or more "
                "segments; use a share in [0, 0.5), e.g. 0.05"
            )
        whole_number(stability_resamples, "task.stability_resamples", hint="e.g. 10")
        if not (isinstance(min_segments, int) and isinstance(max_segments, int)) or not (
            2 <= min_segments <= max_segments
        ):
            raise UserError(
                f"task.min_segments={min_segments!r}, task.max_segments={max_segments!r}: use "
                "whole numbers with 2 <= min_segments <= max_segments, e.g. 3 and 8"
            )
        if min_segments * min_segment_share > 1:
            raise UserError(
                f"task.min_segments={min_segments} segments cannot each hold "
                f"task.min_segment_share={min_segment_share}; lower one of them"
            )
        if (
            isinstance(min_stability, bool)
            or not isinstance(min_stability, int | float)
            or not (-1 <= min_stability <= 1)
        ):
            raise UserError(
                f"task.min_stability={min_stability!r}; use an adjusted Rand index in [-1, 1], "
                "e.g. 0.8"
            )
        self.name = name
        self.objective = objective
        self.valid_size, self.test_size = valid_size, test_size
        self.min_segment_share = min_segment_share
        self.min_segments, self.max_segments = min_segments, max_segments
        self.min_stability = float(min_stability)
        self.stability_resamples = stability_resamples
        self.stability_rows = stability_rows
        default = {"stability_ari": 0.75, "min_segment_share": min_segment_share}
        self.floors = dict(default if floors is None else floors)
        self.silhouette_rows = silhouette_rows
        self.gate_silhouette_rows = gate_silhouette_rows
        self.log_skewed = log_skewed
        self.rfm = (recency_column, frequency_column, monetary_column)
        self.features = list(features) if features else None
        self.cutoff = cutoff
        self.windows = tuple(windows)
        self.key_features = key_features
        self.plot_rows = plot_rows
        self.seed = seed

    # --- data -----------------------------------------------------------------------------

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> Prepared:
        self.require_rows(frame)
        columns.check(frame, "the data")
        if not columns.amount:
            return self.split(frame, columns)
        self._check_log(columns)
        cutoff = self._cutoff(frame[columns.time])
        table = self.table_from_log(frame, str(cutoff), {"log": log_roles(columns)})
        return self.split(table, columns, cutoff)

    def prepare_spark(
        self, frame: Any, columns: Columns, sample: Sampler | None = None
    ) -> Prepared:
        """prepare() with a log's snapshot built by Spark; the clustering models have no Spark
        implementation, so the customers are the engine's seeded sample of the table."""
        if sample is None:
            return super().prepare_spark(frame, columns)
        columns.check(frame, "the data")
        if not columns.amount:
            return self.split(sample(frame), columns)
        from growthlab.spark import snapshots as spark_snapshots

        self._check_log(columns)
        facts = spark_snapshots.log_facts(frame, columns.id, columns.time, columns.amount)
        cutoff = self._cutoff(spark_snapshots.time_range(facts, columns.time))
        table = self._spark_table(frame, cutoff, log_roles(columns), facts)
        return self.split(sample(table).sort_values(columns.id, ignore_index=True), columns, cutoff)

    @staticmethod
    def _check_log(columns: Columns) -> None:
        if not (columns.id and columns.time):
            raise UserError("a transaction log needs dataset.columns.id (customer) and .time")

    def split(
        self, table: pd.DataFrame, columns: Columns, cutoff: pd.Timestamp | None = None
    ) -> Prepared:
        """Random customers into train / valid / test; a log's table is its snapshot at cutoff."""
        info: dict[str, Any] = {"split": "random_customers"}
        # The judging space's column types (a log's roles say nothing about snapshot features).
        schema: dict[str, Any] = {"categorical": [], "numeric": []}
        if cutoff is not None:
            schema["log"] = log_roles(columns)
            roles = Columns(id=columns.id, time=CUTOFF)
            info.update({"shape": "transaction_log", "cutoff": f"{cutoff:%Y-%m-%d}"})
        else:
            roles = columns
            info["shape"] = "customer_table"
        X = roles.features(table)
        if self.features:
            missing = [c for c in self.features if c not in X.columns]
            if missing:
                raise UserError(
                    f"task.features names {missing[0]!r}, which is not a feature column "
                    f"(features: {', '.join(map(str, X.columns[:20]))})"
                )
            X = X[self.features]
        if X.shape[1] == 0:
            raise UserError(
                "no feature columns left to segment on; declare fewer columns in "
                "dataset.columns (drop, pii, ...) or fix task.features"
            )
        if len(X) < MIN_CUSTOMERS:
            raise UserError(f"only {len(X)} customers; segmentation needs at least {MIN_CUSTOMERS}")
        if not columns.amount:
            schema.update(categorical=list(columns.categorical), numeric=list(columns.numeric))
        oracle = None
        if columns.oracle and columns.oracle in table:  # planted segments (simulated tables)
            oracle = pd.factorize(table[columns.oracle])[0]
        positions = stratified_split(np.zeros(len(X)), self.valid_size, self.test_size, self.seed)
        parts = {}
        for split, rows in positions.items():
            parts[split] = Part(
                X.iloc[rows], np.zeros(len(rows)), None if oracle is None else oracle[rows]
            )
            info[f"{split}_rows"] = len(rows)
        info["n_features"] = X.shape[1]
        return Prepared(parts, info, schema)

    def _cutoff(self, times: pd.Series) -> pd.Timestamp:
        if not pd.api.types.is_datetime64_any_dtype(times):
            raise UserError(f"time column {times.name!r} is {times.dtype}, not dates")
        if self.cutoff is not None:
            return pd.Timestamp(self.cutoff)
        return times.max().normalize() + pd.Timedelta(days=1)

    def table_from_log(
        self, log: pd.DataFrame, cutoff: str, schema: Mapping[str, Any]
    ) -> pd.DataFrame:
        """One row per customer with a purchase before the cutoff: churn's snapshot features."""
        roles = schema.get("log")
        log = log_to_score(log, roles, "segmenter")
        cut, first = pd.Timestamp(cutoff), log[roles["time"]].min()
        if first.tz is not None and cut.tz is None:
            cut = cut.tz_localize(first.tz)
        return build_snapshots(log, [cut], **self.snapshot_options(roles, cut, first), labels=False)

    def table_from_log_spark(self, log: Any, cutoff: str, schema: Mapping[str, Any]) -> Any:
        """table_from_log() on Spark: every customer with a purchase before the cutoff."""
        from growthlab.spark.frames import log_to_score as spark_log_to_score

        roles = schema.get("log")
        log = spark_log_to_score(log, roles, "segmenter")
        return self._spark_table(log, pd.Timestamp(cutoff), roles)

    def _spark_table(
        self,
        log: Any,
        cut: pd.Timestamp,
        roles: Mapping[str, str | None],
        facts: dict[str, Any] | None = None,
    ) -> Any:
        """The snapshot at the cutoff, built by Spark (growthlab.spark.snapshots)."""
        from growthlab.spark import snapshots as spark_snapshots

        facts = facts or spark_snapshots.log_facts(log, roles["id"], roles["time"], roles["amount"])
        first = pd.Timestamp(facts["first"])
        options = self.snapshot_options(roles, cut, first)
        return spark_snapshots.build_snapshots(log, [cut], **options, labels=False, facts=facts)

    def snapshot_options(
        self, roles: Mapping[str, str | None], cut: pd.Timestamp, first: pd.Timestamp
    ) -> dict[str, Any]:
        """The snapshot builders' keywords (pandas and Spark): everyone who bought before cut."""
        span = (cut - first).days + 1  # the active window: everyone who bought before the cutoff
        return {
            "id_col": roles["id"],
            "time_col": roles["time"],
            "amount_col": roles["amount"],
            "channel_col": roles["channel"],
            "active_window_days": max(span, 1),
            "windows": self.windows,
        }

    # --- fitting --------------------------------------------------------------------------

    def _check_k(self, model: BaseEstimator, n_rows: int) -> None:
        k = _segments_asked(model)
        if k is None:
            return
        if k < 2:
            raise UserError(
                f"{k} segment is no segmentation; set model.n_clusters (n_components) to 2 or more"
            )
        if k * self.min_segment_share > 1:
            raise UserError(
                f"{k} segments cannot each hold task.min_segment_share={self.min_segment_share} "
                "of the customers; lower model.n_clusters (n_components) or the share"
            )
        if n_rows < 2 * k:
            raise UserError(
                f"only {n_rows} training customers for {k} segments; use more customers or "
                "fewer segments (model.n_clusters / model.n_components)"
            )
        if not self.min_segments <= k <= self.max_segments:
            raise UserError(
                f"model.n_clusters (n_components)={k} is outside task.min_segments.."
                f"task.max_segments = {self.min_segments}..{self.max_segments}; choose k in "
                "the range or widen it"
            )

    def fit(self, model: BaseEstimator, data: Prepared, report: Any = None) -> BaseEstimator:
        """Fit on train and learn a readable name per segment from the training profile."""
        train = data.parts["train"]
        self._check_k(model, len(train.X))
        recency, frequency, monetary = self.rfm
        words = {
            recency: ("recent", "lapsed"),
            frequency: ("infrequent", "frequent"),
            monetary: ("low value", "high value"),
        }
        return NamedSegments(model, words=words).fit(train.X)

    def validate(
        self, new_model: Callable[[], BaseEstimator], data: Prepared, report: Any = None
    ) -> dict[str, float]:
        """One trial: fit on train, judge valid; too small a segment makes the trial lose.

        There is no training curve to report (a clustering fit is one step): no pruning.
        """
        train, valid = data.parts["train"], data.parts["valid"]
        model = new_model()
        k = _segments_asked(model)
        if k is not None and k * self.min_segment_share > 1:
            return {**PENALTY, "min_segment_share": 0.0, "n_segments": float(k), "feasible": 0.0,
                    "stability_ari": 0.0}  # fmt: skip
        self._check_k(model, len(train.X))
        model.fit(train.X)
        space = self.space(train.X, data.schema)
        metrics = self.metrics_of(space.transform(valid.X), model.predict(valid.X))
        stability, _ = self.stability(model, train.X)
        # How far the trial is from a usable segmentation: zero when it is feasible.
        short = max(0.0, self.min_segment_share - metrics["min_segment_share"]) + max(
            0.0, self.min_stability - stability
        )
        metrics = {k: (v if np.isfinite(v) else PENALTY.get(k, 0.0)) for k, v in metrics.items()}
        if short > 0:  # loses to every feasible trial; the less short, the better
            sign = -1.0 if self.objective in self.minimized else 1.0
            metrics.update(PENALTY)
            metrics[self.objective] = PENALTY[self.objective] - sign * short
        return {**metrics, "stability_ari": stability, "feasible": float(short == 0)}

    def choice_table(self, model: BaseEstimator, data: Prepared) -> pd.DataFrame:
        """Every k of the business range scored as a trial is: separation, share, stability."""
        inner = model.estimator_ if hasattr(model, "estimator_") else model
        chosen, rows = _segments_asked(inner), []
        if chosen is None:  # the model decides its own segments (the RFM rules)
            return pd.DataFrame()
        for k in range(self.min_segments, self.max_segments + 1):
            metrics = self.validate(partial(_with_k, inner, k), data)
            rows.append({"k": k, **metrics, "chosen": k == chosen})
        return pd.DataFrame(rows)

    def space(self, X: pd.DataFrame, schema: Mapping[str, Any]) -> SegmentEncoder:
        """The fixed space every segmentation is judged in, fitted on the given rows."""
        return SegmentEncoder(
            categorical=list(schema["categorical"]) or None,
            numeric=list(schema["numeric"]) or None,
            one_hot=True,
            log_skewed=self.log_skewed,
        ).fit(X)

    # --- metrics --------------------------------------------------------------------------

    def metric_names(self) -> list[str]:
        # stability_ari needs refits: validation and test only; the gate reads it as recorded
        return [*OBJECTIVES, "min_segment_share", "n_segments"]

    def metrics_of(self, y: np.ndarray, segments: np.ndarray) -> dict[str, float]:
        """Internal metrics of segment ids on the rows of y (the standardised feature matrix)."""
        return {
            "silhouette": cm.silhouette(y, segments, self.silhouette_rows, self.seed),
            "calinski_harabasz": cm.calinski_harabasz(y, segments),
            "davies_bouldin": cm.davies_bouldin(y, segments),
            "min_segment_share": cm.min_segment_share(segments),
            "n_segments": float(len(np.unique(segments))),
        }

    def metric_function(self, name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        """One metric of (y, segments) for bootstrap resamples; silhouette on a small sample."""
        if name == "silhouette":
            return partial(_silhouette, rows=self.gate_silhouette_rows, seed=self.seed)
        if name == "calinski_harabasz":
            return cm.calinski_harabasz
        if name == "davies_bouldin":
            return cm.davies_bouldin
        if name == "min_segment_share":
            return lambda y, s: cm.min_segment_share(s)
        return lambda y, s: self.metrics_of(y, s)[name]

    def stability(self, model: BaseEstimator, X: pd.DataFrame) -> tuple[float, float]:
        """Mean and min ARI of refits on bootstrap samples vs the full fit, on the same rows."""
        inner = model.estimator_ if hasattr(model, "estimator_") else model
        return bootstrap_stability(
            inner, X, self.stability_resamples, self.stability_rows, self.seed
        )

    def baseline_scores(self, y: np.ndarray, X: pd.DataFrame | None = None) -> np.ndarray | None:
        """The classic RFM rules on the same customers, when they have R, F and M columns."""
        if X is None or not all(c in X for c in self.rfm):
            return None
        return self._rules().fit(X).predict(X)

    def _rules(self) -> RFMSegmenter:
        recency, frequency, monetary = self.rfm
        return RFMSegmenter(recency, frequency, monetary)

    # --- the logged model -----------------------------------------------------------------

    def outcomes(
        self, holdout: pd.DataFrame, schema: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """The holdout's raw columns, and its own standardised matrix every model is judged in."""
        X = part_from_frame(holdout).X
        return X, self.space(X, schema).transform(X)

    # --- evaluation -----------------------------------------------------------------------

    def evaluate(
        self, model: BaseEstimator, data: Prepared, splits: Sequence[str] = ("valid", "test")
    ) -> Evaluation:
        """Metrics per split, stability and the RFM rules' scores; profile and plots on test."""
        result = Evaluation()
        train = data.parts["train"]
        space = self.space(train.X, data.schema)
        predicted = {}
        for split in splits:
            part = data.parts[split]
            predicted[split] = segments = model.predict(part.X)
            metrics = self.metrics_of(space.transform(part.X), segments)
            if part.oracle is not None:
                metrics["oracle_ari"] = cm.adjusted_rand(part.oracle, segments)
            result.metrics.update({f"{split}_{k}": v for k, v in metrics.items()})
        mean_ari, min_ari = self.stability(model, train.X)
        result.metrics.update({"test_stability_ari": mean_ari, "test_stability_ari_min": min_ari})
        test = data.parts["test"]
        Z = space.transform(test.X)
        segments = predicted["test"] if "test" in predicted else model.predict(test.X)
        names = getattr(model, "names_", {int(s): f"segment {s}" for s in np.unique(segments)})
        if all(c in test.X for c in self.rfm):
            rules = self._rules().fit(train.X).predict(test.X)
            rfm = self.metrics_of(Z, rules)
            result.metrics.update({f"test_rfm_{k}": v for k, v in rfm.items()})
        profile = segment_profile(test.X, segments, names, self.rfm, self.key_features)
        result.tables["test_segment_profile"] = profile
        result.figures = self.figures(Z, segments, names, space)
        choice = self.choice_table(model, data)
        if not choice.empty:
            result.tables["test_segment_choice"] = choice
            result.figures["test_segment_choice"] = plots.choice_figure(
                choice, self.objective, self.min_stability
            )
        return result

    def figures(
        self, Z: np.ndarray, segments: np.ndarray, names: dict[int, str], space: SegmentEncoder
    ) -> dict[str, Any]:
        rows = np.sort(np.random.default_rng(self.seed).permutation(len(Z))[: self.plot_rows])
        numeric = len(space.numeric_)
        columns = list(space.get_feature_names_out())[-numeric:] if numeric else []
        return {
            "test_segment_sizes": plots.sizes_figure(segments, names),
            "test_segment_profile_heatmap": plots.profile_heatmap_figure(
                Z[:, Z.shape[1] - numeric :], segments, names, columns
            ),
            "test_segment_pca": plots.pca_figure(Z[rows], segments[rows], names),
            "test_silhouette": plots.silhouette_figure(
                cm.silhouette_values(Z[rows], segments[rows]), segments[rows], names
            ),
        }


def _silhouette(y: np.ndarray, segments: np.ndarray, rows: int, seed: int) -> float:
    return cm.silhouette(y, segments, rows, seed)


def _with_k(model: BaseEstimator, k: int) -> BaseEstimator:
    """A fresh copy of a clustering model asked for k segments."""
    fresh = clone(model)
    last = fresh.steps[-1][1] if hasattr(fresh, "steps") else fresh
    last.set_params(**{"n_clusters" if hasattr(last, "n_clusters") else "n_components": k})
    return fresh


def _segments_asked(model: BaseEstimator) -> int | None:
    """The number of segments a clustering model is asked for (None: the model decides)."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    for key in ("n_clusters", "n_components"):
        value = getattr(last, key, None)
        if isinstance(value, int | np.integer):
            return int(value)
    return None
