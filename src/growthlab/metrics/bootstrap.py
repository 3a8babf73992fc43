"""Paired bootstrap: is one model better than another on the same rows, beyond noise?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from growthlab.errors import UserError
from growthlab.progress import progress

Metric = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Difference:
    """metric(b) - metric(a) on all rows, and its bootstrap interval."""

    value: float
    low: float
    high: float


def paired_difference(
    y: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    metric: Metric,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    two_classes: bool = True,
    groups: np.ndarray | None = None,
) -> Difference:
    """Resample rows with replacement, the same rows for both models (that is what pairs them).

    A row is one unit the metric averages over: a lead, a user's ranked list, a forecast point.
    With `groups` (one label per row), whole groups are resampled instead: rows of one group
    (the forecast points of one series) are correlated, and resampling them one by one would
    make the interval too narrow. With two_classes (0/1 labels), resamples with a single class
    (no metric is defined on them) are drawn again.
    """
    y, scores_a, scores_b = np.asarray(y), np.asarray(scores_a), np.asarray(scores_b)
    if len(y) == 0 or (two_classes and y.min() == y.max()):
        raise UserError("a paired bootstrap needs both classes among the rows")
    draw = _group_draw(groups) if groups is not None else lambda r: r.integers(0, len(y), len(y))
    rng = np.random.default_rng(seed)
    diffs = np.empty(resamples)
    for i in progress(range(resamples), "bootstrap", unit="resample"):
        rows = draw(rng)
        while two_classes and y[rows].min() == y[rows].max():
            rows = draw(rng)
        diffs[i] = metric(y[rows], scores_b[rows]) - metric(y[rows], scores_a[rows])
    tail = (1 - confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    return Difference(metric(y, scores_b) - metric(y, scores_a), float(low), float(high))


def _group_draw(groups: np.ndarray) -> Callable[[np.random.Generator], np.ndarray]:
    """Rows of as many groups as there are, drawn with replacement (a cluster bootstrap)."""
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(codes.max() + 2))
    members = [order[starts[g] : starts[g + 1]] for g in range(len(starts) - 1)]

    def draw(rng: np.random.Generator) -> np.ndarray:
        return np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])

    return draw
