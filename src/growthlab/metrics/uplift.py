"""Uplift metrics for randomised campaigns: who changes their mind when contacted.

Inputs are arrays of one row per customer: ``y`` the 0/1 outcome, ``treatment`` 0/1 (1 =
contacted) and ``uplift`` the model's score (higher = target first).

Definitions, on the rows ranked by descending score, after the top k rows (k = 0..n), with
N_T, N_C the treated and control counts and Y_T, Y_C their conversions among those k rows:

- Qini curve: Q(k) = Y_T - Y_C * N_T / N_C (incremental conversions, in treated-group units).
- Uplift (cumulative gain) curve: G(k) = (Y_T / N_T - Y_C / N_C) * k.
- Qini coefficient: mean over k = 0..n of Q(k) minus the random line Q(n) * k / n.
- AUUC: mean over k = 0..n of G(k) (no random line subtracted).
- Normalised: every curve divided by |its value at k = n| before averaging.

These are causalml's ``get_qini``/``qini_score`` and ``get_cumgain``/``auuc_score`` (0.18)
definitions. Where an arm is still empty (N_T or N_C is 0) a point is undefined; like
causalml, Q(k) and the rate difference G(k) / k are interpolated linearly between their
defined neighbours (both start at 0 for k = 0).

Ties: rows with equal scores form one block that is taken whole or not at all, so the curves
are evaluated only at block ends and drawn linearly within a block (as sklearn's ROC curve
does); the result never depends on row order. causalml sorts ties in an arbitrary order, so
the two agree exactly only without ties. Top-k and decile tables need a hard cut: they use a
stable sort (ties keep row order), like :mod:`growthlab.metrics.classification`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from growthlab.errors import UserError
from growthlab.metrics.classification import top_mask

UPLIFT_DECILE_COLUMNS = [
    "decile",
    "count",
    "treated",
    "control",
    "treated_conversions",
    "control_conversions",
    "treated_rate",
    "control_rate",
    "uplift",
    "score_min",
    "score_max",
]


def check_uplift(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, where: str = "uplift metrics"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate once; return (int outcome, int treatment, float scores) or raise UserError."""
    out = np.asarray(y).ravel()
    arm = np.asarray(treatment).ravel()
    scores = np.asarray(uplift).ravel()
    if out.size == 0:
        raise UserError(f"no rows to evaluate in {where}: need treated and control customers")
    if not out.size == arm.size == scores.size:
        raise UserError(
            f"y, treatment and uplift have {out.size}, {arm.size} and {scores.size} rows in "
            f"{where}: they must describe the same customers"
        )
    for values, name, fix in (
        (out, "y", "map the outcome to 1 for converted and 0 otherwise"),
        (arm, "treatment", "map the treatment to 1 for contacted and 0 for control"),
    ):
        if not np.isin(values, [0, 1]).all():
            bad = values[~np.isin(values, [0, 1])][0]
            raise UserError(f"{name} must be 0/1 in {where} but contains {bad!r}: {fix}")
    arm = arm.astype(np.int64)
    if arm.min() == arm.max():
        raise UserError(
            f"treatment has only one arm in {where} (all rows are {arm[0]}): uplift needs "
            "treated and control customers from a randomised campaign"
        )
    try:
        scores = scores.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise UserError(f"uplift scores must be numeric in {where}: {exc}") from None
    if not np.isfinite(scores).all():
        raise UserError(f"uplift scores have NaN or infinite values in {where}")
    return out.astype(np.int64), arm, scores


def _block_sums(
    y: np.ndarray, t: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(k, N_T, N_C, Y_T, Y_C) after each block of equal scores, from the highest score down."""
    order = np.argsort(-u, kind="stable")
    ys, ts, us = y[order], t[order], u[order]
    ends = np.flatnonzero(np.r_[us[1:] != us[:-1], True])
    n_t, y_t = np.cumsum(ts)[ends], np.cumsum(ys * ts)[ends]
    k = ends + 1
    return k, n_t, k - n_t, y_t, np.cumsum(ys * (1 - ts))[ends]


def _fill(n: int, k: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values at every k = 0..n: 0 at k = 0, linear between defined block ends."""
    ok = np.isfinite(values)
    return np.interp(np.arange(n + 1), np.r_[0, k[ok]], np.r_[0.0, values[ok]])


def qini_curve(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, *, normalize: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(share targeted, Q(k)) for k = 0..n: incremental conversions of targeting the top k."""
    out, arm, scores = check_uplift(y, treatment, uplift, "qini_curve")
    k, n_t, n_c, y_t, y_c = _block_sums(out, arm, scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = y_t - y_c * n_t / n_c
    curve = _fill(out.size, k, np.where(n_c > 0, q, np.nan))
    return np.arange(out.size + 1) / out.size, _normalized(curve) if normalize else curve


def uplift_curve(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, *, normalize: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(share targeted, G(k)) for k = 0..n: uplift among the top k times k (cumulative gain)."""
    out, arm, scores = check_uplift(y, treatment, uplift, "uplift_curve")
    k, n_t, n_c, y_t, y_c = _block_sums(out, arm, scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where((n_t > 0) & (n_c > 0), y_t / n_t - y_c / n_c, np.nan)
    # Like causalml, an undefined point interpolates the rate difference, not the gain.
    ok = np.isfinite(lift)
    lift = np.interp(k, np.r_[0, k[ok]], np.r_[0.0, lift[ok]])
    curve = _fill(out.size, k, lift * k)
    return np.arange(out.size + 1) / out.size, _normalized(curve) if normalize else curve


def _normalized(curve: np.ndarray) -> np.ndarray:
    """Curve over |its end value|; an end value of 0 (no overall effect) leaves it as is."""
    end = abs(curve[-1])
    return curve / end if end > 0 else curve


def qini_coefficient(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, *, normalize: bool = False
) -> float:
    """Mean gap between the Qini curve and the random line (causalml's ``qini_score``)."""
    x, q = qini_curve(y, treatment, uplift, normalize=normalize)
    return float(np.mean(q - q[-1] * x))


def auuc(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, *, normalize: bool = False
) -> float:
    """Mean height of the uplift curve over k = 0..n (causalml's ``auuc_score``)."""
    return float(np.mean(uplift_curve(y, treatment, uplift, normalize=normalize)[1]))


def uplift_at(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, fraction: float) -> float:
    """Treated minus control conversion rate among the top ceil(fraction * n) scores."""
    out, arm, scores = check_uplift(y, treatment, uplift, "uplift_at")
    top = top_mask(scores, fraction)
    treated, control = top & (arm == 1), top & (arm == 0)
    if not treated.any() or not control.any():
        raise UserError(
            f"the top {fraction:.0%} holds no {'treated' if not treated.any() else 'control'} "
            "customers: evaluate on more rows or use a larger fraction"
        )
    return float(out[treated].mean() - out[control].mean())


def average_treatment_effect(
    y: ArrayLike, treatment: ArrayLike, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(ATE, low, high): difference in conversion rates with a normal-approximation interval."""
    out, arm, _ = check_uplift(y, treatment, np.zeros(np.asarray(y).size), "ate")
    if not 0.0 < confidence < 1.0:
        raise UserError(f"confidence must be in (0, 1), got {confidence!r}")
    p1, p0 = out[arm == 1].mean(), out[arm == 0].mean()
    # Unpooled (Wald) standard error of a difference of two independent proportions.
    se = math.sqrt(p1 * (1 - p1) / (arm == 1).sum() + p0 * (1 - p0) / (arm == 0).sum())
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    ate = float(p1 - p0)
    return ate, ate - z * se, ate + z * se


def profit_curve(
    y: ArrayLike,
    treatment: ArrayLike,
    uplift: ArrayLike,
    value: float,
    cost: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(share targeted, expected profit): value * G(k) - cost * k for the top k, k = 0..n."""
    if value < 0 or cost < 0:
        raise UserError(f"value and cost must be non-negative (got {value!r}, {cost!r})")
    x, gain = uplift_curve(y, treatment, uplift)
    return x, value * gain - cost * np.arange(x.size)


def best_share(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, value: float, cost: float
) -> tuple[float, float]:
    """(share to target, its expected profit): the profit curve's maximum, 0 if none pays."""
    x, profit = profit_curve(y, treatment, uplift, value, cost)
    best = int(np.argmax(profit))  # the first maximum: the smallest campaign that earns it
    return float(x[best]), float(profit[best])


def uplift_decile_table(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, n_bins: int = 10
) -> pd.DataFrame:
    """Per score bin (1 = highest scores): counts and conversion rates of each arm, uplift."""
    out, arm, scores = check_uplift(y, treatment, uplift, "uplift_decile_table")
    if not 1 <= n_bins <= out.size:
        raise UserError(f"n_bins must be between 1 and the number of rows, got {n_bins!r}")
    rows = []
    # array_split makes the first bins one row larger when n is not divisible by n_bins.
    for i, idx in enumerate(np.array_split(np.argsort(-scores, kind="stable"), n_bins), 1):
        t, yy = arm[idx], out[idx]
        n_t, n_c = int(t.sum()), int(idx.size - t.sum())
        c_t, c_c = int(yy[t == 1].sum()), int(yy[t == 0].sum())
        r_t = c_t / n_t if n_t else math.nan  # an empty arm has no rate: NaN, not 0
        r_c = c_c / n_c if n_c else math.nan
        low, high = float(scores[idx].min()), float(scores[idx].max())
        rows.append((i, int(idx.size), n_t, n_c, c_t, c_c, r_t, r_c, r_t - r_c, low, high))
    return pd.DataFrame(rows, columns=UPLIFT_DECILE_COLUMNS)


def _pct(prefix: str, fraction: float) -> str:
    return f"{prefix}_at_{round(fraction * 100):g}pct"


def uplift_metrics(
    y: ArrayLike,
    treatment: ArrayLike,
    uplift: ArrayLike,
    fractions: Sequence[float] = (0.1, 0.2, 0.3),
) -> dict[str, float]:
    """The standard set: Qini and AUUC (raw and normalised), uplift at top k, ATE."""
    out, arm, scores = check_uplift(y, treatment, uplift)
    metrics = {
        "qini": qini_coefficient(out, arm, scores),
        "qini_normalized": qini_coefficient(out, arm, scores, normalize=True),
        "auuc": auuc(out, arm, scores),
        "auuc_normalized": auuc(out, arm, scores, normalize=True),
    }
    for f in fractions:
        metrics[_pct("uplift", f)] = uplift_at(out, arm, scores, f)
    metrics["ate"] = average_treatment_effect(out, arm)[0]
    return metrics
