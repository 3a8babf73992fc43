"""Point-in-time churn snapshots: one row per (customer, cutoff) built from a transaction log.

Every feature of a row uses ONLY events strictly before its cutoff; the label `churned` uses
only events in [cutoff, cutoff + horizon_days). An event exactly at a cutoff is therefore
future for that cutoff: it can clear the churn label, never move a feature. Windows are
half-open day ranges, [cutoff - w days, cutoff), and durations are fractional days (of 24
hours: with zoned times a window across a DST change ends an hour off local midnight).

Feature columns, per row:
  recency_days             cutoff - last event
  tenure_days              cutoff - first event
  frequency_<w>d           events in [cutoff - w days, cutoff), for each w in `windows`
  monetary_<w>d            amount summed over the same events
  frequency_total          events before the cutoff
  monetary_total           amount summed over them
  avg_amount               monetary_total / frequency_total
  trend_frequency          events in the last TREND_DAYS days minus the TREND_DAYS days before
  mean_interpurchase_days  mean gap between events = (last - first) / (events - 1); NaN for one
  share_<channel>          share of the pre-cutoff events in that channel (with channel_col),
                           one column per channel value seen anywhere in the log; events with a
                           missing channel count in the denominator only

Over 300 lines: the snapshot builder and its leakage guards are one unit of review (every
feature must be provably before its cutoff).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from growthlab.data.dates import parse_dates
from growthlab.errors import UserError, whole_number

if TYPE_CHECKING:
    from growthlab.data.dataset import Columns

CUTOFF = "cutoff"
LABEL = "churned"
TREND_DAYS = 90

_DAY = np.timedelta64(1, "D")


def snapshot_cutoffs(
    times: pd.Series,
    horizon_days: int,
    every_days: int,
    count: int,
    *,
    history_days: int = 0,
) -> list[pd.Timestamp]:
    """Midnight cutoffs, oldest first: the latest with a fully observed horizon, then earlier.

    The latest cutoff is the last midnight with cutoff + horizon_days <= the day after the last
    event. The earliest must leave `history_days` whole days of log before it (pass the longest
    feature window so every window is observed; 0 only asks for an event before it).
    """
    for name, value in (
        ("horizon_days", horizon_days),
        ("every_days", every_days),
        ("count", count),
    ):
        whole_number(value, name)
    if history_days < 0:
        raise UserError(f"history_days must be 0 or more, got {history_days!r}")
    times = check_times(times, "snapshot_cutoffs")
    first, last = times.min(), times.max()
    latest = last.normalize() + pd.Timedelta(days=1) - pd.Timedelta(days=horizon_days)
    span = f"the log spans {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if not _has_history(latest, first, history_days):
        raise UserError(
            f"horizon_days={horizon_days} reaches past the data: {span}, which leaves no cutoff "
            f"with {history_days} days of history before it and a fully observed horizon after "
            "it; lower horizon_days (or history_days) or use a longer log"
        )
    cutoffs = [latest - pd.Timedelta(days=every_days * k) for k in range(count - 1, -1, -1)]
    if not _has_history(cutoffs[0], first, history_days):
        raise UserError(
            f"count={count} cutoffs every {every_days} days start on {cutoffs[0]:%Y-%m-%d}, "
            f"without {history_days} days of history before it ({span}); "
            "lower count or every_days"
        )
    return cutoffs


def _has_history(cutoff: pd.Timestamp, first: pd.Timestamp, history_days: int) -> bool:
    """An event before the cutoff, and `history_days` whole days of log before it."""
    return cutoff > first and cutoff - pd.Timedelta(days=history_days) >= first.normalize()


def split_cutoffs(
    times: pd.Series, horizon_days: int, every_days: int, n_cutoffs: int, windows: Sequence[int]
) -> list[pd.Timestamp]:
    """Cutoffs for an out-of-time split (train, valid, test), each with every window observed."""
    if n_cutoffs < 3:
        raise UserError("task.n_cutoffs must be at least 3: train, valid and test cutoffs")
    return snapshot_cutoffs(times, horizon_days, every_days, n_cutoffs, history_days=max(windows))


def cutoff_positions(cut: np.ndarray, cutoffs: list[pd.Timestamp]) -> dict[str, np.ndarray]:
    """Rows per split, out of time by cutoff: the latest is the test, the one before validates."""
    valid, test = cutoffs[-2].to_datetime64(), cutoffs[-1].to_datetime64()
    return {
        "train": np.flatnonzero(cut < valid),
        "valid": np.flatnonzero(cut == valid),
        "test": np.flatnonzero(cut == test),
    }


def build_snapshots(
    log: pd.DataFrame,
    cutoffs: Sequence[pd.Timestamp | str],
    *,
    id_col: str,
    time_col: str,
    amount_col: str,
    channel_col: str | None = None,
    horizon_days: int = 90,
    active_window_days: int = 180,
    windows: Sequence[int] = (30, 90, 180),
    labels: bool = True,
) -> pd.DataFrame:
    """One row per (cutoff, customer active in the active window), features and churn label.

    Rows are sorted by cutoff, then id. See the module docstring for every column. With
    labels=False (scoring at today's cutoff, whose future is unknown) there is no label column
    and the horizon need not be observed.
    """
    needed = [id_col, time_col, amount_col] + ([channel_col] if channel_col else [])
    missing = [c for c in needed if c not in log.columns]
    if missing:
        raise UserError(
            f"column {missing[0]!r} is not in the transaction log; fix id_col, time_col, "
            f"amount_col or channel_col (columns present: {', '.join(map(str, log.columns[:20]))})"
        )
    whole_number(horizon_days, "horizon_days")
    whole_number(active_window_days, "active_window_days")
    windows = check_windows(windows)
    times = check_times(log[time_col], "the transaction log")
    cuts = check_cutoffs(cutoffs, times, horizon_days if labels else 0)

    codes, ids = pd.factorize(log[id_col], sort=True)
    if (codes < 0).any():
        raise UserError(
            f"id column {id_col!r} has {int((codes < 0).sum())} missing values; "
            "drop or fill those transactions"
        )
    amounts = _check_amounts(log[amount_col])
    if channel_col:
        channel_codes, channels = pd.factorize(log[channel_col], sort=True)
        channel_names = [f"share_{c}" for c in channels]
    else:
        channel_codes, channel_names = np.zeros(len(log), dtype=np.intp), []

    feature_names = window_feature_names(windows) + channel_names
    clashes = [c for c in (id_col, CUTOFF, LABEL) if c in feature_names]
    if clashes or len(set(feature_names)) != len(feature_names):
        raise UserError(
            f"snapshot column names collide ({clashes[0] if clashes else 'share_*'!r}); "
            "rename the id column or the channel values"
        )

    # Sorted by (customer, time): each customer's events before a cutoff are a prefix of its
    # block, so its first and last pre-cutoff events are found by position, without a loop.
    time_ns = _utc_ns(times)
    order = np.lexsort((time_ns, codes))
    log_arrays = _Sorted(
        code=codes[order],
        time=time_ns[order],
        amount=amounts[order],
        channel=channel_codes[order],
        n_customers=len(ids),
        n_channels=len(channel_names),
    )
    parts = [
        _one_cutoff(log_arrays, cut, windows, horizon_days, active_window_days)
        for cut in _utc_ns(pd.Series(cuts))
    ]

    rows = np.concatenate([p[0] for p in parts])
    columns: dict[str, object] = {
        id_col: ids.take(rows),
        CUTOFF: cuts.repeat([len(p[0]) for p in parts]),
    }
    for j, name in enumerate(feature_names):
        columns[name] = np.concatenate([p[1][j] for p in parts])
    if labels:
        columns[LABEL] = np.concatenate([p[2] for p in parts])
    return pd.DataFrame(columns)


class _Sorted:
    """The log as parallel numpy arrays sorted by (customer code, time)."""

    def __init__(
        self,
        *,
        code: np.ndarray,
        time: np.ndarray,
        amount: np.ndarray,
        channel: np.ndarray,
        n_customers: int,
        n_channels: int,
    ) -> None:
        self.code, self.time, self.amount, self.channel = code, time, amount, channel
        self.n_customers, self.n_channels = n_customers, n_channels
        counts = np.bincount(code, minlength=n_customers)
        self.start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.first = time[self.start]


def _one_cutoff(
    log: _Sorted,
    cutoff: np.datetime64,
    windows: list[int],
    horizon_days: int,
    active_window_days: int,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """(customer codes of the active rows, feature arrays in column order, churn labels)."""
    k = log.n_customers
    before = log.time < cutoff
    code, time, amount = log.code[before], log.time[before], log.amount[before]
    n_total = np.bincount(code, minlength=k)
    last = log.time[np.maximum(log.start + n_total - 1, 0)]  # garbage where n_total == 0
    active = (n_total > 0) & (last >= cutoff - active_window_days * _DAY)
    rows = np.flatnonzero(active)

    def since(days: int) -> tuple[np.ndarray, np.ndarray]:
        """Events and amount per active customer in [cutoff - days, cutoff)."""
        inside = time >= cutoff - days * _DAY
        counts = np.bincount(code[inside], minlength=k)[rows]
        sums = np.bincount(code[inside], weights=amount[inside], minlength=k)[rows]
        return counts, sums.astype(np.float64)  # bincount of nothing is int, even with weights

    frequency = n_total[rows]
    monetary = np.bincount(code, weights=amount, minlength=k)[rows].astype(np.float64)
    last, first = last[rows], log.first[rows]
    features = [(cutoff - last) / _DAY, (cutoff - first) / _DAY]
    for w in windows:
        features.extend(since(w))
    recent = since(TREND_DAYS)[0]
    earlier = since(2 * TREND_DAYS)[0] - recent
    with np.errstate(invalid="ignore", divide="ignore"):
        gaps = np.where(frequency > 1, (last - first) / _DAY / (frequency - 1), np.nan)
    features += [frequency, monetary, monetary / frequency, recent - earlier, gaps]
    if log.n_channels:
        known = log.channel[before] >= 0
        cells = code[known] * log.n_channels + log.channel[before][known]
        table = np.bincount(cells, minlength=k * log.n_channels).reshape(k, log.n_channels)
        shares = table[rows] / frequency[:, None]
        features.extend(shares[:, j] for j in range(log.n_channels))

    horizon = (log.time >= cutoff) & (log.time < cutoff + horizon_days * _DAY)
    returned = np.bincount(log.code[horizon], minlength=k)[rows] > 0
    return rows, features, (~returned).astype(np.int64)


def window_feature_names(windows: list[int]) -> list[str]:
    per_window = [n for w in windows for n in (f"frequency_{w}d", f"monetary_{w}d")]
    return [
        "recency_days",
        "tenure_days",
        *per_window,
        "frequency_total",
        "monetary_total",
        "avg_amount",
        "trend_frequency",
        "mean_interpurchase_days",
    ]


def check_windows(windows: Sequence[int]) -> list[int]:
    values = list(windows)
    for w in values:
        whole_number(w, "each of windows")
    if not values or len(set(values)) != len(values):
        raise UserError(f"windows must be distinct day counts, at least one, got {values!r}")
    return [int(w) for w in values]


def check_times(times: pd.Series, where: str) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(times):
        raise UserError(
            f"time column {times.name!r} in {where} is {times.dtype}, not dates; "
            "convert it with pd.to_datetime first"
        )
    if len(times) == 0:
        raise UserError(f"time column {times.name!r} in {where} is empty: need transactions")
    if times.isna().any():
        raise UserError(
            f"time column {times.name!r} in {where} has {int(times.isna().sum())} missing dates; "
            "drop or fill those transactions"
        )
    return times


def _check_amounts(amounts: pd.Series) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(amounts) or pd.api.types.is_bool_dtype(amounts):
        raise UserError(
            f"amount column {amounts.name!r} is {amounts.dtype}, not numbers; "
            "convert it with pd.to_numeric first"
        )
    values = amounts.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values).all():
        raise UserError(
            f"amount column {amounts.name!r} has {int((~np.isfinite(values)).sum())} missing or "
            "infinite values; drop or fill those transactions"
        )
    return values


def check_cutoffs(
    cutoffs: Sequence[pd.Timestamp | str], times: pd.Series, horizon_days: int
) -> pd.DatetimeIndex:
    """Cutoffs as a sorted index in the log's time zone, each with a fully observed horizon."""
    try:
        cuts = pd.DatetimeIndex(list(cutoffs))
    except (TypeError, ValueError) as exc:
        raise UserError(f"cutoffs must be dates: {exc}") from None
    if len(cuts) == 0 or cuts.hasnans:
        raise UserError("cutoffs must be at least one date, none missing; see snapshot_cutoffs")
    if cuts.has_duplicates:
        raise UserError(f"cutoff {cuts[cuts.duplicated()][0]} is given twice; pass each once")
    zone = times.dt.tz
    if zone is not None:
        cuts = cuts.tz_localize(zone) if cuts.tz is None else cuts.tz_convert(zone)
    elif cuts.tz is not None:
        raise UserError(
            "cutoffs have a time zone but the log's time column has none; pass naive cutoffs"
        )
    cuts = cuts.sort_values()
    end = times.max().normalize() + pd.Timedelta(days=1)
    if cuts[-1] + pd.Timedelta(days=horizon_days) > end:
        raise UserError(
            f"cutoff {cuts[-1]:%Y-%m-%d} + horizon_days={horizon_days} ends after the log's last "
            f"day ({times.max():%Y-%m-%d}), so its churn labels are unobserved; use earlier "
            "cutoffs (snapshot_cutoffs) or lower horizon_days"
        )
    return cuts


def _utc_ns(times: pd.Series) -> np.ndarray:
    """Times as naive datetime64[ns] (UTC for zoned times), for fast numpy comparisons."""
    if times.dt.tz is not None:
        times = times.dt.tz_convert(None)
    return times.to_numpy().astype("datetime64[ns]")


def log_roles(columns: Columns) -> dict[str, str | None]:
    """The roles of a log's columns a model keeps, to build its input from a new log."""
    return {"id": columns.id, "time": columns.time, "amount": columns.amount,
            "channel": columns.channel}  # fmt: skip


def log_to_score(
    log: pd.DataFrame, roles: Mapping[str, str | None] | None, model: str
) -> pd.DataFrame:
    """A log a model trained on logs can build its customer table from (CUTOFF=...): the
    columns it was trained with, times parsed. `roles` is None for a table-trained model."""
    roles = check_log_to_score(log.columns, roles, model)
    # parsed as training parses a file's time column: any ISO-8601 mix, a bad value by row
    return log.assign(**{roles["time"]: parse_dates(log[roles["time"]], roles["time"])})


def check_log_to_score(
    columns: Iterable[str], roles: Mapping[str, str | None] | None, model: str
) -> Mapping[str, str | None]:
    """The roles, once the model was trained on a log and the log has its id, time and amount
    columns (pandas and Spark logs alike)."""
    if roles is None:
        raise UserError(
            f"this {model} was trained on a customer table, not a log: "
            "score a customer table (leave CUTOFF unset)"
        )
    present = set(columns)
    missing = [roles[r] for r in ("id", "time", "amount") if roles[r] not in present]
    if missing:
        raise UserError(f"the log lacks column {missing[0]!r} the model was trained with")
    return roles
