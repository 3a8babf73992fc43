"""Binary-classification metrics for targeting: who to contact, and how good the ranking is.

Every ranking here uses one order: a STABLE sort on descending score, so rows with equal
scores keep their original order (earlier rows first). Top-k, lift, capture, decile tables
and gains curves therefore always agree with each other and are reproducible run to run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

from growthlab.errors import UserError

DECILE_COLUMNS = [
    "decile",
    "count",
    "conversions",
    "rate",
    "lift",
    "cumulative_count",
    "cumulative_conversions",
    "cumulative_capture",
    "score_min",
    "score_max",
]

_LOG_LOSS_EPS = 1e-15
# ceil(0.3 * 10) would be 4 because 0.3 * 10 == 3.0000000000000004; absorb float noise first.
_CEIL_SLACK = 1e-9


def check_binary(
    y_true: ArrayLike, y_score: ArrayLike, where: str = "y_true"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores once; return (int 0/1 labels, float scores) or raise UserError."""
    labels = np.asarray(y_true).ravel()
    scores = np.asarray(y_score).ravel()
    if labels.size == 0:
        raise UserError(f"y_true is empty in {where}: need at least one scored row with a label")
    if labels.shape != scores.shape:
        raise UserError(
            f"y_true has {labels.size} rows but y_score has {scores.size} in {where}: "
            "labels and scores must describe the same rows"
        )
    # isin on object/str labels is simply False, so "yes"/"no" targets fail here, not later.
    if not np.isin(labels, [0, 1]).all():
        bad = labels[~np.isin(labels, [0, 1])][0]
        raise UserError(
            f"y_true must be 0/1 in {where} but contains {bad!r}: "
            "map the target to 1 for converters and 0 for non-converters"
        )
    labels = labels.astype(np.int64)
    if labels.min() == labels.max():
        raise UserError(
            f"y_true has only one class in {where}: need both converters and non-converters "
            f"(all rows are {labels[0]}); use more data or a different split"
        )
    try:
        scores = scores.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise UserError(f"y_score must be numeric in {where}: {exc}") from None
    if not np.isfinite(scores).all():
        raise UserError(f"y_score has NaN or infinite values in {where}: every row needs a score")
    return labels, scores


def _check_fraction(fraction: float) -> None:
    """Fractions come from configs, so a bad one is the user's to fix."""
    if not 0.0 < fraction <= 1.0:
        raise UserError(f"fraction must be in (0, 1], got {fraction!r}")


def _order(y_score: np.ndarray) -> np.ndarray:
    """Row indices from highest to lowest score; stable, so ties keep their original order."""
    return np.argsort(-y_score, kind="stable")


def top_mask(y_score: ArrayLike, fraction: float) -> np.ndarray:
    """Mask of the top ceil(fraction * n) rows by score; stable sort, so ties keep row order."""
    scores = np.asarray(y_score, dtype=np.float64).ravel()
    mask = np.zeros(scores.size, dtype=bool)
    mask[_order(scores)[: _top_count(scores.size, fraction)]] = True
    return mask


def _top_count(n: int, fraction: float) -> int:
    """How many rows the top fraction holds: ceil(fraction * n), at least one."""
    _check_fraction(fraction)
    return min(n, max(1, math.ceil(fraction * n - _CEIL_SLACK)))


def lift_at(
    y_true: ArrayLike, y_score: ArrayLike, fraction: float, *, where: str = "y_true"
) -> float:
    """Conversion rate in the top fraction divided by the overall conversion rate."""
    labels, scores = check_binary(y_true, y_score, where)
    return float(labels[top_mask(scores, fraction)].mean() / labels.mean())


def capture_at(
    y_true: ArrayLike, y_score: ArrayLike, fraction: float, *, where: str = "y_true"
) -> float:
    """Share of all positives found in the top fraction (cumulative gains, recall at k%)."""
    labels, scores = check_binary(y_true, y_score, where)
    return float(labels[top_mask(scores, fraction)].sum() / labels.sum())


def precision_at_k(
    y_true: ArrayLike, y_score: ArrayLike, k: int, *, where: str = "y_true"
) -> float:
    """Precision among the k highest-scored rows; k larger than n means all rows."""
    labels, scores = check_binary(y_true, y_score, where)
    if k < 1:
        raise UserError(f"k (capacity) must be at least 1, got {k!r}")
    return float(labels[_order(scores)[:k]].mean())


def decile_table(
    y_true: ArrayLike, y_score: ArrayLike, n_bins: int = 10, *, where: str = "y_true"
) -> pd.DataFrame:
    """Per-bin counts, rates, lift and cumulative capture, bin 1 holding the highest scores."""
    labels, scores = check_binary(y_true, y_score, where)
    if not 1 <= n_bins <= labels.size:
        raise UserError(
            f"n_bins must be between 1 and the number of rows ({labels.size}) in {where}, "
            f"got {n_bins!r}"
        )
    base_rate = labels.mean()
    total = labels.sum()
    rows = []
    cum_count = cum_conv = 0
    # array_split makes the first bins one row larger when n is not divisible by n_bins.
    for i, idx in enumerate(np.array_split(_order(scores), n_bins), start=1):
        count, conversions = int(idx.size), int(labels[idx].sum())
        cum_count += count
        cum_conv += conversions
        rate = conversions / count
        scores_in_bin = (float(scores[idx].min()), float(scores[idx].max()))
        cumulative = (cum_count, cum_conv, cum_conv / total)
        rows.append((i, count, conversions, rate, rate / base_rate, *cumulative, *scores_in_bin))
    return pd.DataFrame(rows, columns=DECILE_COLUMNS)


def gains_curve(
    y_true: ArrayLike, y_score: ArrayLike, *, where: str = "y_true"
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gains: (share contacted, share of positives captured), starting at (0, 0)."""
    labels, scores = check_binary(y_true, y_score, where)
    n = labels.size
    x = np.arange(n + 1, dtype=np.float64) / n
    y = np.concatenate([[0.0], np.cumsum(labels[_order(scores)]) / labels.sum()])
    return x, y


def _pct_name(prefix: str, fraction: float) -> str:
    return f"{prefix}_at_{round(fraction * 100):g}pct"


def binary_metrics(
    y_true: ArrayLike,
    y_score: ArrayLike,
    fractions: Sequence[float] = (0.05, 0.10, 0.20),
    capacity: int | None = None,
    *,
    where: str = "y_true",
) -> dict[str, float]:
    """Standard metric set: AUC, AP, log loss, Brier, lift/capture per fraction, base rate."""
    labels, scores = check_binary(y_true, y_score, where)
    if scores.min() < 0.0 or scores.max() > 1.0:
        # Log loss and Brier only mean something for probabilities, not raw margins.
        raise UserError(
            f"y_score must be probabilities in [0, 1] in {where} "
            f"(got range {scores.min():.4g}..{scores.max():.4g}); use predict_proba"
        )
    names = [_pct_name("lift", f) for f in fractions]
    if len(set(names)) != len(names):
        raise UserError(
            f"fractions {list(fractions)} round to the same whole percent; use distinct ones"
        )
    clipped = np.clip(scores, _LOG_LOSS_EPS, 1.0 - _LOG_LOSS_EPS)
    out: dict[str, float] = {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
        "log_loss": float(log_loss(labels, clipped, labels=[0, 1])),
        "brier": float(brier_score_loss(labels, scores)),
    }
    # One sort serves every cut (as lift_at, capture_at and precision_at_k would each sort).
    found = np.cumsum(labels[_order(scores)])
    for f in fractions:
        k = _top_count(labels.size, f)
        out[_pct_name("lift", f)] = float(found[k - 1] / k / labels.mean())
        out[_pct_name("capture", f)] = float(found[k - 1] / labels.sum())
    if capacity is not None:
        if capacity < 1:
            raise UserError(f"k (capacity) must be at least 1, got {capacity!r}")
        k = min(capacity, labels.size)
        out["precision_at_capacity"] = float(found[k - 1] / k)
    out["base_rate"] = float(labels.mean())
    return out


def rank_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """ROC AUC from ranks (Mann-Whitney U): sklearn's value, much faster in a bootstrap loop."""
    from scipy.stats import rankdata

    labels = np.asarray(y_true) == 1
    ranks = rankdata(np.asarray(y_score, dtype=float))  # ties get their mean rank: counted 1/2
    positives = int(labels.sum())
    negatives = len(labels) - positives
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))
