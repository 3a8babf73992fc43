"""Customer-value metrics: how close predicted spend is, and how well it ranks the big spenders.

`actual` is each customer's spend in the horizon after the cutoff, `predicted` the model's value.
Rankings sort on descending prediction. The Gini, the captured shares and the gains curve
average the actual value over tied predictions (the expected result of breaking ties at
random), so a constant prediction scores a Gini of exactly 0 and captures exactly its share.
The decile and tier tables assign rows by position in a STABLE sort (ties keep row order), as
the classification decile table does, so each customer lands in one bin.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from growthlab.errors import UserError

CALIBRATION_COLUMNS = ["decile", "customers", "mean_predicted", "mean_actual", "predicted_min"]
TIER_COLUMNS = [
    "tier",
    "customers",
    "customer_share",
    "predicted",
    "predicted_share",
    "actual",
    "actual_share",
]
# ceil(0.3 * 10) would be 4 because 0.3 * 10 == 3.0000000000000004; absorb float noise first.
_CEIL_SLACK = 1e-9


def check_values(actual: ArrayLike, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) as float arrays of one length, or a UserError naming the fix."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    p = np.asarray(predicted, dtype=np.float64).ravel()
    if a.size == 0 or a.shape != p.shape:
        raise UserError(
            f"actual has {a.size} values and predicted {p.size}: need one of each per customer"
        )
    if not (np.isfinite(a).all() and np.isfinite(p).all()):
        raise UserError("actual or predicted value has NaN or infinite entries; fill or drop them")
    if (a < 0).any():
        raise UserError("actual value is negative for some customers; net refunds or drop them")
    return a, p


def mae(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Mean absolute error per customer."""
    a, p = check_values(actual, predicted)
    return float(np.mean(np.abs(p - a)))


def rmse(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Root mean squared error per customer."""
    a, p = check_values(actual, predicted)
    return float(np.sqrt(np.mean((p - a) ** 2)))


def aggregate_error_pct(actual: ArrayLike, predicted: ArrayLike) -> float:
    """(total predicted - total actual) / total actual, in percent: the budget-level error."""
    a, p = check_values(actual, predicted)
    return 100.0 * (p.sum() - a.sum()) / _total(a)


def _total(a: np.ndarray) -> float:
    total = float(a.sum())
    if total <= 0:
        raise UserError("no customer spent anything in the horizon: value metrics are undefined")
    return total


def _ranked_actual(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Actual value sorted by descending prediction, averaged within runs of tied predictions."""
    order = np.argsort(-p, kind="stable")
    ranked_p, ranked_a = p[order], a[order]
    starts = np.flatnonzero(np.concatenate([[True], ranked_p[1:] != ranked_p[:-1]]))
    sizes = np.diff(np.concatenate([starts, [a.size]]))
    means = np.add.reduceat(ranked_a, starts) / sizes
    return np.repeat(means, sizes)


def _gini(ranked: np.ndarray) -> float:
    """Gini of values already in ranking order: mean cumulative share minus that of random."""
    n = ranked.size
    return float(np.cumsum(ranked).sum() / ranked.sum() / n - (n + 1) / (2 * n))


def normalized_gini(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Gini of actual ordered by predicted / Gini ordered by actual: 1 perfect, 0 random."""
    a, p = check_values(actual, predicted)
    _total(a)
    best = _gini(np.sort(a)[::-1])
    if best == 0:
        raise UserError("every customer has the same actual value: no ranking to score")
    return _gini(_ranked_actual(a, p)) / best


def gains_curve(actual: ArrayLike, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(share of customers, share of actual value they hold) by prediction, from (0, 0)."""
    a, p = check_values(actual, predicted)
    x = np.arange(a.size + 1, dtype=np.float64) / a.size
    return x, np.concatenate([[0.0], np.cumsum(_ranked_actual(a, p)) / _total(a)])


def _top_count(share: float, n: int) -> int:
    if not 0.0 < share <= 1.0:
        raise UserError(f"a top share must be in (0, 1], got {share!r}")
    return min(n, max(1, math.ceil(share * n - _CEIL_SLACK)))


def value_captured(actual: ArrayLike, predicted: ArrayLike, share: float) -> float:
    """Share of all actual value held by the top `share` of customers by prediction."""
    a, p = check_values(actual, predicted)
    k = _top_count(share, a.size)
    return float(_ranked_actual(a, p)[:k].sum() / _total(a))


def calibration_table(actual: ArrayLike, predicted: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs mean actual per predicted decile, decile 1 the highest predictions."""
    a, p = check_values(actual, predicted)
    if not 1 <= n_bins <= a.size:
        raise UserError(f"n_bins must be between 1 and the number of customers ({a.size})")
    order = np.argsort(-p, kind="stable")
    rows = [
        (i, idx.size, float(p[idx].mean()), float(a[idx].mean()), float(p[idx].min()))
        # array_split makes the first bins one row larger when n is not divisible by n_bins.
        for i, idx in enumerate(np.array_split(order, n_bins), start=1)
    ]
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def check_tier_cuts(cuts: Sequence[float]) -> list[float]:
    """Top shares where tiers end, e.g. [0.1, 0.3, 0.6]: increasing, inside (0, 1)."""
    values = [float(c) for c in cuts]
    if not values or len(values) > 25:
        raise UserError(f"tier cuts must be 1 to 25 top shares like [0.1, 0.3, 0.6], got {cuts!r}")
    if any(not 0 < c < 1 for c in values) or any(
        b <= a for a, b in zip(values, values[1:], strict=False)
    ):
        raise UserError(f"tier cuts must increase strictly inside (0, 1), got {values!r}")
    return values


def assign_tiers(predicted: ArrayLike, cuts: Sequence[float]) -> np.ndarray:
    """Tier letter per customer: A for the top cuts[0] by prediction, then B, C, ..."""
    p = np.asarray(predicted, dtype=np.float64).ravel()
    edges = [math.ceil(c * p.size - _CEIL_SLACK) for c in check_tier_cuts(cuts)]
    position = np.empty(p.size, dtype=np.int64)
    position[np.argsort(-p, kind="stable")] = np.arange(p.size)
    letters = np.array(list(string.ascii_uppercase[: len(edges) + 1]))
    return letters[np.searchsorted(edges, position, side="right")]


def tier_table(actual: ArrayLike, predicted: ArrayLike, cuts: Sequence[float]) -> pd.DataFrame:
    """Per tier: customers, predicted and actual value, each with its share of the total."""
    a, p = check_values(actual, predicted)
    tiers = assign_tiers(p, cuts)
    letters = list(string.ascii_uppercase[: len(cuts) + 1])
    frame = pd.DataFrame({"tier": tiers, "predicted": p, "actual": a})
    table = frame.groupby("tier").agg(
        customers=("tier", "size"), predicted=("predicted", "sum"), actual=("actual", "sum")
    )
    table = table.reindex(letters, fill_value=0).reset_index()
    table["customer_share"] = table["customers"] / a.size
    table["predicted_share"] = table["predicted"] / p.sum() if p.sum() else np.nan
    table["actual_share"] = table["actual"] / _total(a)
    return table[TIER_COLUMNS]


def value_metrics(
    actual: ArrayLike, predicted: ArrayLike, shares: Sequence[float] = (0.1, 0.2)
) -> dict[str, float]:
    """The standard set: MAE, RMSE, normalised Gini, aggregate error, value captured per share."""
    a, p = check_values(actual, predicted)
    out = {
        "mae": mae(a, p),
        "rmse": rmse(a, p),
        "normalized_gini": normalized_gini(a, p),
        "aggregate_error_pct": aggregate_error_pct(a, p),
    }
    for share in shares:
        out[f"value_captured_at_{round(share * 100):g}pct"] = value_captured(a, p, share)
    return out
