"""Point-in-time churn snapshots on Spark: the same rows, columns and labels as
growthlab.data.snapshots.build_snapshots (whose docstring defines every column).

Each event is paired with every cutoff it can matter to (one explode over a handful of
cutoffs), then one groupBy (customer, cutoff) computes every feature with conditional sums:
a feature only ever sums events with time < cutoff, the label only events in
[cutoff, cutoff + horizon_days). Times are compared as microseconds since the epoch (UTC).
Rows come in no particular order (a lake has none); the pandas path sorts by cutoff, id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from growthlab.data.snapshots import (
    CUTOFF,
    LABEL,
    TREND_DAYS,
    check_cutoffs,
    check_times,
    check_windows,
    window_feature_names,
)
from growthlab.errors import UserError, whole_number

DAY = 86_400_000_000  # microseconds


def log_facts(log: DataFrame, id_col: str, time_col: str, amount_col: str) -> dict[str, Any]:
    """First and last event, counts of unusable cells and of negative amounts: one aggregation,
    one row collected."""
    kind = log.schema[time_col].dataType
    if not isinstance(kind, T.TimestampType | T.TimestampNTZType):
        raise UserError(
            f"time column {time_col!r} in the transaction log is {kind.simpleString()}, not "
            "dates; store it as a timestamp"
        )
    amount_kind = log.schema[amount_col].dataType
    if not isinstance(amount_kind, T.NumericType):
        raise UserError(
            f"amount column {amount_col!r} is {amount_kind.simpleString()}, not numbers; "
            "cast it to a number first"
        )
    amount = F.col(f"`{amount_col}`").cast("double")
    bad_amount = amount.isNull() | F.isnan(amount) | (F.abs(amount) == float("inf"))
    row = log.agg(
        F.min(f"`{time_col}`").alias("first"),
        F.max(f"`{time_col}`").alias("last"),
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.col(f"`{time_col}`").isNull().cast("long")).alias("no_time"),
        F.sum(F.col(f"`{id_col}`").isNull().cast("long")).alias("no_id"),
        F.sum(bad_amount.cast("long")).alias("bad_amount"),
        F.sum((amount < 0).cast("long")).alias("negative_amount"),  # refunds (customer value)
    ).first()
    facts = row.asDict()
    if not facts["rows"]:
        raise UserError(
            f"time column {time_col!r} in the transaction log is empty: need transactions"
        )
    for key, what, column in (
        ("no_time", "missing dates", time_col),
        ("no_id", "missing values", id_col),
        ("bad_amount", "missing or infinite values", amount_col),
    ):
        if facts[key]:
            raise UserError(
                f"column {column!r} has {facts[key]} {what}; drop or fill those transactions"
            )
    return facts


def time_range(facts: dict[str, Any], time_col: str) -> pd.Series:
    """The log's first and last event as a pandas Series, for the pandas path's cutoff rules."""
    return pd.Series(pd.to_datetime([facts["first"], facts["last"]]), name=time_col)


def build_snapshots(
    log: DataFrame,
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
    facts: dict[str, Any] | None = None,
) -> DataFrame:
    """One row per (cutoff, customer active in the active window): features and churn label.

    Collected to the driver: one row of facts about the log (`facts`, when the caller has
    them already) and its distinct channel values.
    """
    needed = [id_col, time_col, amount_col] + ([channel_col] if channel_col else [])
    missing = [c for c in needed if c not in log.columns]
    if missing:
        raise UserError(
            f"column {missing[0]!r} is not in the transaction log; fix id_col, time_col, "
            f"amount_col or channel_col (columns present: {', '.join(log.columns[:20])})"
        )
    whole_number(horizon_days, "horizon_days")
    whole_number(active_window_days, "active_window_days")
    windows = check_windows(windows)
    facts = facts or log_facts(log, id_col, time_col, amount_col)
    times = check_times(time_range(facts, time_col), "the transaction log")
    cuts = check_cutoffs(cutoffs, times, horizon_days if labels else 0)
    channels = distinct_channels(log, channel_col) if channel_col else []
    channel_names = [f"share_{c}" for c in channels]
    feature_names = window_feature_names(windows) + channel_names
    clashes = [c for c in (id_col, CUTOFF, LABEL) if c in feature_names]
    if clashes or len(set(feature_names)) != len(feature_names):
        raise UserError(
            f"snapshot column names collide ({clashes[0] if clashes else 'share_*'!r}); "
            "rename the id column or the channel values"
        )

    micros = [int(pd.Timestamp(c).value // 1000) for c in cuts]
    events = log.select(
        F.col(f"`{id_col}`").alias("_id"),
        F.unix_micros(F.col(f"`{time_col}`").cast("timestamp")).alias("_t"),
        F.col(f"`{amount_col}`").cast("double").alias("_a"),
        (F.col(f"`{channel_col}`") if channel_col else F.lit(None)).alias("_ch"),
    )
    reach = horizon_days * DAY if labels else 0  # events past the label window matter to none
    paired = events.withColumn("_c", F.explode(F.array(*[F.lit(m) for m in micros]))).where(
        F.col("_t") < F.col("_c") + reach
    )
    t, c = F.col("_t"), F.col("_c")
    before = t < c

    def since(days: int) -> Column:
        return before & (t >= c - days * DAY)

    aggregates = [
        _count(before).alias("_n"),
        F.max(F.when(before, t)).alias("_last"),
        F.min(F.when(before, t)).alias("_first"),
        _sum(before).alias("monetary_total"),
        _count(since(TREND_DAYS)).alias("_recent"),
        _count(since(2 * TREND_DAYS)).alias("_older"),
    ]
    for w in windows:
        aggregates += [
            _count(since(w)).alias(f"frequency_{w}d"),
            _sum(since(w)).alias(f"monetary_{w}d"),
        ]
    aggregates += [
        _count(before & (F.col("_ch") == v)).alias(f"_ch{j}") for j, v in enumerate(channels)
    ]
    if labels:
        aggregates.append(_count((t >= c) & (t < c + horizon_days * DAY)).alias("_returned"))
    grouped = paired.groupBy("_id", "_c").agg(*aggregates)
    active = grouped.where((F.col("_n") > 0) & (F.col("_last") >= c - active_window_days * DAY))

    n, last, first = F.col("_n"), F.col("_last"), F.col("_first")
    computed = {
        "recency_days": (c - last) / DAY,
        "tenure_days": (c - first) / DAY,
        "frequency_total": n,
        "monetary_total": F.col("monetary_total"),
        "avg_amount": F.col("monetary_total") / n,
        "trend_frequency": F.col("_recent") - (F.col("_older") - F.col("_recent")),
        "mean_interpurchase_days": F.when(n > 1, ((last - first) / DAY) / (n - 1)).otherwise(
            F.lit(float("nan"))
        ),
    }
    for w in windows:
        computed[f"frequency_{w}d"] = F.col(f"frequency_{w}d")
        computed[f"monetary_{w}d"] = F.col(f"monetary_{w}d")
    for j, name in enumerate(channel_names):
        computed[name] = F.col(f"_ch{j}") / n
    columns = [F.col("_id").alias(id_col), F.timestamp_micros(c).alias(CUTOFF)]
    columns += [computed[name].alias(name) for name in feature_names]
    if labels:
        columns.append(F.when(F.col("_returned") > 0, 0).otherwise(1).cast("long").alias(LABEL))
    return active.select(*columns)


def _count(condition: Column) -> Column:
    return F.sum(F.when(condition, 1).otherwise(0).cast("long"))


def _sum(condition: Column) -> Column:
    return F.sum(F.when(condition, F.col("_a")).otherwise(F.lit(0.0)))


def distinct_channels(log: DataFrame, channel_col: str) -> list[Any]:
    """The channel values seen anywhere in the log, sorted as pandas.factorize sorts them
    (collected: one row per channel)."""
    rows = log.select(f"`{channel_col}`").where(F.col(f"`{channel_col}`").isNotNull()).distinct()
    return sorted(r[0] for r in rows.collect())
