"""Customer-value snapshots: churn's point-in-time features plus what each customer spends next.

One row per (cutoff, customer with any purchase before the cutoff). The features are exactly
those of `build_snapshots` (one implementation): only events strictly before the cutoff. The
labels use only events in [cutoff, cutoff + horizon_days):
  future_spend      amount summed over those events
  future_purchases  how many there are
and the naive baseline `naive_spend` is the spend of the horizon_days before the cutoff (the
feature monetary_<horizon>d, whose window is added to `windows` when missing).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from growthlab.data.snapshots import CUTOFF, build_snapshots, check_cutoffs, check_times
from growthlab.errors import UserError, whole_number

SPEND = "future_spend"
PURCHASES = "future_purchases"
NAIVE = "naive_spend"


def build_value_snapshots(
    log: pd.DataFrame,
    cutoffs: Sequence[pd.Timestamp | str],
    *,
    id_col: str,
    time_col: str,
    amount_col: str,
    channel_col: str | None = None,
    horizon_days: int = 90,
    windows: Sequence[int] = (30, 90, 180),
    labels: bool = True,
) -> pd.DataFrame:
    """Snapshot features, the naive baseline and (with labels) next-horizon spend and purchases."""
    check_value_columns(log.columns, id_col, time_col, amount_col, horizon_days)
    times = check_times(log[time_col], "the transaction log")
    if pd.api.types.is_numeric_dtype(log[amount_col]):
        check_no_refunds(amount_col, int((log[amount_col] < 0).sum()))
    cuts, options = feature_options(cutoffs, times, horizon_days, windows, labels)
    features = build_snapshots(
        log,
        cuts,
        id_col=id_col,
        time_col=time_col,
        amount_col=amount_col,
        channel_col=channel_col,
        horizon_days=horizon_days,
        labels=False,
        **options,
    )
    features[NAIVE] = features[f"monetary_{horizon_days}d"]
    if not labels:
        return features
    future = _future(log, cuts, id_col, time_col, amount_col, horizon_days)
    out = features.merge(future, on=[id_col, CUTOFF], how="left", validate="one_to_one")
    out[SPEND] = out[SPEND].fillna(0.0)
    out[PURCHASES] = out[PURCHASES].fillna(0).astype(np.int64)
    return out


def check_value_columns(
    columns: Iterable[str], id_col: str, time_col: str, amount_col: str, horizon_days: int
) -> None:
    """The log has the three columns, and the id does not clash with a value column."""
    whole_number(horizon_days, "horizon_days")
    present = set(columns)
    missing = [c for c in (id_col, time_col, amount_col) if c not in present]
    if missing or id_col in (SPEND, PURCHASES, NAIVE):
        raise UserError(
            f"column {(missing or [id_col])[0]!r} is missing from the transaction log or clashes "
            f"with a value column; fix id_col, time_col or amount_col"
        )


def feature_options(
    cutoffs: Sequence[pd.Timestamp | str],
    times: pd.Series,
    horizon_days: int,
    windows: Sequence[int],
    labels: bool,
) -> tuple[pd.DatetimeIndex, dict[str, Any]]:
    """The checked cutoffs and the snapshot keywords of the features (pandas and Spark alike)."""
    cuts = check_cutoffs(cutoffs, times, 0)
    if labels:
        check_horizon(cuts, times, horizon_days)
    # Every customer who ever bought before a cutoff is scored: an active window spanning the log.
    span = math.ceil((cuts[-1] - times.min()) / pd.Timedelta(days=1)) + 1
    return cuts, {
        "active_window_days": max(span, 1),
        "windows": [*windows, *([] if horizon_days in windows else [horizon_days])],
    }


def _future(
    log: pd.DataFrame,
    cuts: pd.DatetimeIndex,
    id_col: str,
    time_col: str,
    amount_col: str,
    horizon_days: int,
) -> pd.DataFrame:
    """Spend and purchases per (customer, cutoff) in [cutoff, cutoff + horizon_days)."""
    times, horizon = log[time_col], pd.Timedelta(days=horizon_days)
    parts = []
    for cut in cuts:
        inside = log.loc[(times >= cut) & (times < cut + horizon)]
        grouped = inside.groupby(id_col, sort=False)[amount_col].agg(["sum", "size"])
        parts.append(
            grouped.rename(columns={"sum": SPEND, "size": PURCHASES}).assign(**{CUTOFF: cut})
        )
    frame = pd.concat(parts).reset_index()
    frame[SPEND] = frame[SPEND].astype(np.float64)
    return frame[[id_col, CUTOFF, SPEND, PURCHASES]]


def check_no_refunds(amount_col: str, negatives: int) -> None:
    """Refuse negative amounts (counted by either engine) in one line."""
    if negatives:
        raise UserError(
            f"amount column {amount_col!r} has {negatives} negative amounts "
            "(refunds?); net them against their purchases or drop them before predicting value"
        )


def check_horizon(cuts: pd.DatetimeIndex, times: pd.Series, horizon_days: int) -> None:
    end = times.max().normalize() + pd.Timedelta(days=1)
    if cuts[-1] + pd.Timedelta(days=horizon_days) > end:
        raise UserError(
            f"cutoff {cuts[-1]:%Y-%m-%d} + horizon_days={horizon_days} ends after the log's last "
            f"day ({times.max():%Y-%m-%d}), so its future spend is unobserved; use earlier "
            "cutoffs (snapshot_cutoffs) or lower horizon_days"
        )
