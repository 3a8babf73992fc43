"""Interactions (who bought, clicked or rated what): pairs, filters, splits, sparse matrices.

Pure functions on frames and arrays; column names are arguments (they come from the dataset's
column roles). Repeated purchases of one item by one user are collapsed into one pair first:
the question is which item a user takes up next, and a pair split between training and test
would leak the answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from growthlab.errors import UserError

WEIGHT = "__weight__"  # the weight column of the pairs when the data declares none


def collapse_pairs(
    frame: pd.DataFrame, user: str, item: str, weight: str | None = None, time: str | None = None
) -> pd.DataFrame:
    """One row per (user, item): summed weight (a count when none), the first time.

    Pairs whose summed weight is not positive (a purchase cancelled by a return) are dropped.
    """
    for column in (user, item):
        missing = int(frame[column].isna().sum())
        if missing:
            raise UserError(
                f"column {column!r} has {missing} missing values; drop those rows first"
            )
    w = weight or WEIGHT
    if weight:
        values = pd.to_numeric(frame[weight], errors="coerce")
        if values.isna().any():
            raise UserError(
                f"weight column {weight!r} must be numeric without blanks "
                f"(e.g. row {int(np.flatnonzero(values.isna().to_numpy())[0]) + 1}); "
                "fix the data or unset dataset.columns.weight"
            )
        frame = frame.assign(**{w: values.astype(float)})
    else:
        frame = frame.assign(**{w: 1.0})
    aggregations = {w: (w, "sum")}
    if time:
        if frame[time].isna().any():
            raise UserError(
                f"time column {time!r} has {int(frame[time].isna().sum())} missing values; "
                "fill or drop them, or unset dataset.columns.time for a random holdout"
            )
        aggregations[time] = (time, "min")
    pairs = frame.groupby([user, item], sort=False, as_index=False).agg(**aggregations)
    return pairs[pairs[w] > 0].reset_index(drop=True)


def filter_min_interactions(pairs: pd.DataFrame, user: str, minimum: int) -> pd.DataFrame:
    """Only the users with at least `minimum` distinct items."""
    sizes = pairs.groupby(user, sort=False)[user].transform("size")
    return pairs[sizes.to_numpy() >= minimum].reset_index(drop=True)


def holdout_last(users: np.ndarray, order: np.ndarray, n: int | np.ndarray) -> np.ndarray:
    """True for each user's last n rows by `order`, for users who keep at least one row.

    With timestamps as `order` this is the chronological leave-last-n-out; with random keys
    it is a per-user random holdout of n items. Ties keep the rows' original order. n may be
    one count per row (its user's count, as holdout_share gives).
    """
    if np.ndim(n) == 0 and n < 1:
        raise UserError(f"the number of held-out items per user must be at least 1 (got {n})")
    frame = pd.DataFrame({"user": pd.factorize(users)[0], "order": order})
    ranked = frame.sort_values(["user", "order"], kind="stable")
    from_end = ranked.groupby("user", sort=False).cumcount(ascending=False).sort_index()
    sizes = frame.groupby("user")["user"].transform("size")
    return ((from_end < n) & (sizes > n)).to_numpy()


def holdout_mask(
    pairs: pd.DataFrame, user: str, n: int, time: str | None = None, seed: int = 0
) -> np.ndarray:
    """Each user's last n items by time, or n items at random (seeded) without a time."""
    order = pairs[time].to_numpy() if time else np.random.default_rng(seed).random(len(pairs))
    return holdout_last(pairs[user].to_numpy(), order, n)


def holdout_share(
    pairs: pd.DataFrame, user: str, fraction: float, time: str | None = None, seed: int = 0
) -> np.ndarray:
    """Each user's last share of items by time, or a seeded random share (the ratio split).

    A user with n items holds out round(fraction * n) of them (halves round up), at least
    one and never all: 75 / 25 on 4 items is 3 / 1, on 6 items 4 / 2 (1.5 rounds up).
    """
    users = pairs[user].to_numpy()
    sizes = pairs.groupby(user, sort=False)[user].transform("size").to_numpy()
    counts = np.clip(np.floor(fraction * sizes + 0.5).astype(int), 1, np.maximum(sizes - 1, 1))
    order = pairs[time].to_numpy() if time else np.random.default_rng(seed).random(len(pairs))
    return holdout_last(users, order, counts)


def index_of(values: pd.Series | np.ndarray) -> pd.Index:
    """The distinct values in order of first appearance: row or column i of the matrix."""
    return pd.Index(pd.unique(np.asarray(values)))


def interaction_matrix(
    users: np.ndarray,
    items: np.ndarray,
    weights: np.ndarray | None,
    user_index: pd.Index,
    item_index: pd.Index,
) -> sp.csr_matrix:
    """Users x items CSR (float32), repeated pairs summed; values outside the indexes dropped."""
    rows = user_index.get_indexer(users)
    cols = item_index.get_indexer(items)
    values = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=float)
    keep = (rows >= 0) & (cols >= 0)
    matrix = sp.coo_matrix(
        (values[keep].astype(np.float32), (rows[keep], cols[keep])),
        shape=(len(user_index), len(item_index)),
    ).tocsr()
    matrix.sum_duplicates()
    return matrix


def item_popularity(matrix: sp.csr_matrix) -> np.ndarray:
    """Number of users who interacted with each item (weights ignored)."""
    return np.asarray((matrix > 0).sum(axis=0)).ravel().astype(float)
