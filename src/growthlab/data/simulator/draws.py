"""Shared category levels and the vectorised draw helpers every table is built with.

Each helper draws whole columns from the table's ``np.random.Generator`` at once; none
loops over rows in Python. The order of the calls is part of a table's random stream:
reordering them changes the table's rows for a given seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------
# Category levels and their marginal mixes (shared by several tables).
# ---------------------------------------------------------------------------

CHANNELS: tuple[str, ...] = (
    "organic_search",
    "paid_search",
    "paid_social",
    "email",
    "referral",
    "direct",
    "events",
)
CHANNEL_P = np.array([0.24, 0.18, 0.17, 0.12, 0.09, 0.13, 0.07])

COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "IN")
COUNTRY_P = np.array([0.38, 0.13, 0.11, 0.08, 0.08, 0.06, 0.05, 0.11])

# Customer segments: the customers model and the weekly/hourly profiles have a row each.
SEGMENTS: tuple[str, ...] = ("consumer", "small_business", "enterprise")


# ---------------------------------------------------------------------------
# Shared vectorised helpers.
# ---------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _categorical(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Integer codes 0..len(p)-1 drawn with probabilities ``p``."""
    return rng.choice(len(p), size=n, p=p / p.sum())


def _conditional_categorical(
    rng: np.random.Generator, parent: np.ndarray, p_by_parent: np.ndarray
) -> np.ndarray:
    """Codes drawn row by row from ``p_by_parent[parent]`` with one vectorised search.

    Each parent's CDF is shifted by the parent code and the rows are laid end to end,
    so ``searchsorted(flat, parent + u)`` lands inside that parent's own CDF: no
    (n x levels) matrix and no loop.
    """
    n_parents, n_levels = p_by_parent.shape
    cdf = np.cumsum(p_by_parent / p_by_parent.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0  # exact, so round-off never spills into the next parent's block
    flat = (cdf + np.arange(n_parents)[:, None]).ravel()
    # Keep u a hair below 1 so parent + u cannot round up to parent + 1.
    u = np.minimum(rng.random(len(parent)), 1.0 - 1e-9)
    index = np.searchsorted(flat, parent + u, side="right")  # "right" skips zero-p levels
    return index - parent * n_levels


def _with_missing(rng: np.random.Generator, codes: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Replace codes by -1 (missing) with a per-row probability ``rate``."""
    return np.where(rng.random(len(codes)) < rate, -1, codes)


def _counts(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Over-dispersed (negative binomial) counts with per-row ``mean``: long right tail."""
    return rng.negative_binomial(dispersion, dispersion / (dispersion + mean)).astype(np.int64)


def _dates(
    rng: np.random.Generator, n: int, start: np.datetime64, days: int, growth: float
) -> np.ndarray:
    """Sorted day-resolution dates whose daily volume grows by ``growth`` x over ``days``."""
    u = rng.random(n)
    if growth == 1.0:
        t = u
    else:
        # Inverse CDF of a density proportional to growth ** (t / days) on [0, 1).
        g = np.log(growth)
        t = np.log1p(u * (growth - 1.0)) / g
    offsets = np.minimum((t * days).astype(np.int64), days - 1)
    return start + np.sort(offsets).astype("timedelta64[D]")


def _strings(codes: np.ndarray, levels: Sequence[str]) -> pd.Series:
    """Plain string column from codes (-1 -> NaN); never the ``category`` dtype."""
    table = np.array([*levels, np.nan], dtype=object)  # code -1 picks the trailing NaN
    return pd.Series(table[codes])


def _lookup(codes: np.ndarray, levels: Sequence[str], effect: Mapping[str, float]) -> np.ndarray:
    """Per-row effect of a coded category; levels absent from ``effect`` count 0."""
    return np.array([effect.get(level, 0.0) for level in levels])[codes]


def _row_categorical(rng: np.random.Generator, p_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Codes drawn from ``p_rows[rows]`` (one probability row per owner, e.g. per customer).

    One uniform per draw, compared level by level with the owner's CDF: memory stays
    linear in the number of draws whatever the number of owners.
    """
    cdf = np.cumsum(p_rows / np.maximum(p_rows.sum(axis=1, keepdims=True), 1e-300), axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(rows))
    codes = np.zeros(len(rows), dtype=np.int64)
    for level in range(p_rows.shape[1] - 1):
        codes += u >= cdf[rows, level]  # ">=" skips levels of zero probability
    return codes


def _dirichlet_rows(rng: np.random.Generator, alpha_rows: np.ndarray) -> np.ndarray:
    """One Dirichlet draw per row of ``alpha_rows`` (normalised Gammas, vectorised)."""
    g = rng.gamma(alpha_rows)
    return g / np.maximum(g.sum(axis=1, keepdims=True), 1e-300)


def _calibrate_intercept(eta: np.ndarray, base_rate: float) -> float:
    """Intercept b with mean(sigmoid(b + eta)) == base_rate (bisection; offline use)."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _sigmoid(mid + eta).mean() < base_rate else (lo, mid)
    return (lo + hi) / 2
