"""What each segment looks like (a profile table, a readable name learned from it), and how stable.

A segment's position on a numeric column is the mean percentile rank of its customers in the
whole population, minus one half (so -0.5..0.5, 0 = typical): ranks, not means, because spend
and order counts are heavy-tailed and a few big spenders would otherwise name a segment.
On a categorical column it is the level share in the segment minus the share overall.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from growthlab.metrics.clustering import adjusted_rand
from growthlab.progress import progress

MIN_DISTINCTION = 0.12  # a position below this (in rank or share units) is "typical"
MAX_LEVELS = 30  # categorical columns with more levels than this are not used for names
MAX_CORRELATION = 0.8  # a column this rank-correlated with one already named adds nothing


def positions(X: pd.DataFrame, labels: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments x terms: how far each segment sits from the typical customer, per column;
    and the rank correlations of the numeric columns (to skip near-copies in a name)."""
    labels = np.asarray(labels)
    frames, ranks = {}, {}
    for column in X.columns:
        values = X[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            ranks[column] = values.astype("float64").rank(pct=True).fillna(0.5).to_numpy()
            frames[(column, "")] = pd.Series(ranks[column]).groupby(labels).mean() - 0.5
        else:
            text = values.astype("string")
            levels = text.dropna().unique()
            if len(levels) > MAX_LEVELS:
                continue
            for level in levels:
                hits = (text == level).fillna(False).to_numpy(dtype=float)
                frames[(column, str(level))] = pd.Series(hits).groupby(labels).mean() - hits.mean()
    names = list(ranks)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.corrcoef(np.array([ranks[c] for c in names])) if len(names) > 1 else [[1.0]]
    correlations = pd.DataFrame(np.nan_to_num(np.atleast_2d(matrix)), names, names)
    return pd.DataFrame(frames), correlations


def _term(column: str, level: str, value: float, words: dict[str, tuple[str, str]]) -> str:
    if level:
        return f"mostly {column.replace('_', ' ')} {level}"
    low, high = words.get(column, (f"low {column}", f"high {column}"))
    return (high if value > 0 else low).replace("_", " ")


def segment_names(
    X: pd.DataFrame,
    labels: np.ndarray,
    words: dict[str, tuple[str, str]] | None = None,
    max_terms: int = 3,
) -> dict[int, str]:
    """A unique name per segment from its most distinctive columns ('high value, recent').

    `words` maps a column to its (low, high) words, e.g. recency -> ('recent', 'lapsed').
    A name that two segments share is lengthened with their next terms; if they still
    agree, the segment id is appended.
    """
    words = words or {}
    table, correlations = positions(X, labels)
    ranked: dict[int, list[str]] = {}
    for segment, row in table.iterrows():
        # Columns with words of their own (recency, frequency, monetary) speak first.
        order = row.abs().sort_values(ascending=False, kind="stable")
        order = pd.concat([order[[c in words for c, _ in order.index]], order])
        terms: list[str] = []
        seen: list[str] = []
        for (column, level), size in order.items():
            if size < MIN_DISTINCTION or (level and row[(column, level)] < 0) or column in seen:
                continue  # one term per column: "mostly device mobile", not also desktop
            if not level and any(
                abs(correlations.at[column, c]) > MAX_CORRELATION for c in seen if c in correlations
            ):
                continue  # "high value" already says "high monetary 365d"
            seen.append(column)
            terms.append(_term(column, level, row[(column, level)], words))
        ranked[int(segment)] = terms or ["typical customers"]
    length = dict.fromkeys(ranked, max_terms)
    for _ in range(max(len(t) for t in ranked.values())):
        names = {s: ", ".join(t[: length[s]]) for s, t in ranked.items()}
        clashes = [s for s in names if list(names.values()).count(names[s]) > 1]
        if not clashes:
            return names
        for s in clashes:
            length[s] += 1
    names = {s: ", ".join(t[: length[s]]) for s, t in ranked.items()}
    counts = pd.Series(list(names.values())).value_counts()
    return {s: (f"{n} (segment {s})" if counts[n] > 1 else n) for s, n in names.items()}


def segment_profile(
    X: pd.DataFrame,
    labels: np.ndarray,
    names: dict[int, str],
    rfm: Sequence[str | None] = (None, None, None),
    key_features: int = 8,
) -> pd.DataFrame:
    """Per segment: size, share, revenue share (with a monetary column), R, F, M and key means.

    Key features are the numeric columns whose segment means differ most, in units of the
    column's standard deviation.
    """
    labels = np.asarray(labels)
    segments = np.unique(labels)
    sizes = pd.Series(labels).value_counts().reindex(segments).to_numpy()
    table = pd.DataFrame(
        {
            "segment": segments,
            "name": [names.get(int(s), str(s)) for s in segments],
            "size": sizes,
            "share": sizes / len(labels),
        }
    )
    numbers = X.select_dtypes("number").astype("float64").reset_index(drop=True)
    means = numbers.groupby(labels).mean().reindex(segments)
    recency, frequency, monetary = rfm
    if monetary and monetary in numbers:
        revenue = numbers[monetary].fillna(0).groupby(labels).sum().reindex(segments)
        total = revenue.sum()
        table["revenue_share"] = (revenue / total).to_numpy() if total else np.nan
    first = [c for c in (recency, frequency, monetary) if c and c in numbers]
    spread = (means.std() / numbers.std().replace(0, np.nan)).drop(first, errors="ignore")
    key = spread.dropna().sort_values(ascending=False).index[:key_features].tolist()
    for column in first + key:
        table[f"mean_{column}"] = means[column].to_numpy()
    return table


class NamedSegments(BaseEstimator):
    """A fitted segmenter and a readable name per segment, learned from its training profile.

    A segmenter with its own names (the RFM rules' `segment_names_`) keeps them.
    """

    def __init__(
        self,
        estimator: BaseEstimator,
        words: dict[str, tuple[str, str]] | None = None,
        max_terms: int = 3,
    ) -> None:
        self.estimator = estimator
        self.words = words
        self.max_terms = max_terms

    def fit(self, X: pd.DataFrame, y: object = None) -> NamedSegments:
        self.estimator_ = clone(self.estimator).fit(X)
        labels = self.estimator_.predict(X)
        own = getattr(_last(self.estimator_), "segment_names_", None)
        if own is not None:
            self.names_ = {int(s): own[int(s)] for s in np.unique(labels)}
        else:
            self.names_ = segment_names(X, labels, self.words, self.max_terms)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict(X)).astype(np.int64)

    def name_of(self, labels: np.ndarray) -> np.ndarray:
        """Names for segment ids (a segment unseen in training gets 'segment <id>')."""
        return np.array(
            [self.names_.get(int(s), f"segment {int(s)}") for s in labels], dtype=object
        )


def bootstrap_stability(
    estimator: BaseEstimator,
    X: pd.DataFrame,
    resamples: int,
    rows: int | None = None,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and min adjusted Rand index of refits on bootstrap samples vs the fitted estimator.

    Every refit assigns the same rows as the full fit (all of X, or a seeded sample of `rows`
    of them), so the ARI measures how much the segments move when the customers are redrawn.
    """
    rng = np.random.default_rng(seed)
    if rows and len(X) > rows:
        X = X.iloc[np.sort(rng.permutation(len(X))[:rows])]
    full = estimator.predict(X)
    scores = []
    for _ in progress(range(resamples), "stability refits", unit="refit"):
        drawn = rng.integers(0, len(X), len(X))
        refit = clone(estimator).fit(X.iloc[drawn])
        scores.append(adjusted_rand(full, refit.predict(X)))
    return float(np.mean(scores)), float(np.min(scores))


def _last(estimator: BaseEstimator) -> BaseEstimator:
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator
