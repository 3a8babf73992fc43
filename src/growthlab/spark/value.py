"""Customer-value snapshots on Spark: the same rows, columns and labels as
growthlab.data.value_targets.build_value_snapshots (whose docstring defines them).

The features are churn's Spark snapshots (growthlab.spark.snapshots) with an active window
spanning the log; the labels are one more groupBy of the events in [cutoff, cutoff +
horizon_days), joined on (customer, cutoff). Rows come in no particular order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from growthlab.data.snapshots import CUTOFF, check_cutoffs, check_times
from growthlab.data.value_targets import (
    NAIVE,
    PURCHASES,
    SPEND,
    check_horizon,
    check_no_refunds,
)
from growthlab.errors import UserError, whole_number
from growthlab.spark.snapshots import DAY, build_snapshots, log_facts, time_range


def build_value_snapshots(
    log: DataFrame,
    cutoffs: Sequence[pd.Timestamp | str],
    *,
    id_col: str,
    time_col: str,
    amount_col: str,
    channel_col: str | None = None,
    horizon_days: int = 90,
    windows: Sequence[int] = (30, 90, 180),
    labels: bool = True,
    facts: dict[str, Any] | None = None,
) -> DataFrame:
    """Snapshot features, the naive baseline and (with labels) next-horizon spend and purchases.

    Collected to the driver: what churn's Spark snapshots collect (one row of facts, the
    distinct channels).
    """
    whole_number(horizon_days, "horizon_days")
    missing = [c for c in (id_col, time_col, amount_col) if c not in log.columns]
    if missing or id_col in (SPEND, PURCHASES, NAIVE):
        raise UserError(
            f"column {(missing or [id_col])[0]!r} is missing from the transaction log or clashes "
            f"with a value column; fix id_col, time_col or amount_col"
        )
    facts = facts or log_facts(log, id_col, time_col, amount_col)
    times = check_times(time_range(facts, time_col), "the transaction log")
    check_no_refunds(amount_col, int(facts["negative_amount"] or 0))
    cuts = check_cutoffs(cutoffs, times, 0)
    if labels:
        check_horizon(cuts, times, horizon_days)
    # Every customer who ever bought before a cutoff is scored: an active window spanning the log.
    span = math.ceil((cuts[-1] - times.min()) / pd.Timedelta(days=1)) + 1
    features = build_snapshots(
        log,
        cuts,
        id_col=id_col,
        time_col=time_col,
        amount_col=amount_col,
        channel_col=channel_col,
        horizon_days=horizon_days,
        active_window_days=max(span, 1),
        windows=[*windows, *([] if horizon_days in windows else [horizon_days])],
        labels=False,
        facts=facts,
    )
    features = features.withColumn(NAIVE, F.col(f"monetary_{horizon_days}d"))
    if not labels:
        return features
    micros = [int(pd.Timestamp(c).value // 1000) for c in cuts]
    t, c = F.col("_t"), F.col("_c")
    future = (
        log.select(
            F.col(f"`{id_col}`").alias(id_col),
            F.unix_micros(F.col(f"`{time_col}`").cast("timestamp")).alias("_t"),
            F.col(f"`{amount_col}`").cast("double").alias("_a"),
        )
        .withColumn("_c", F.explode(F.array(*[F.lit(m) for m in micros])))
        .where((t >= c) & (t < c + horizon_days * DAY))
        .groupBy(id_col, "_c")
        .agg(F.sum("_a").alias(SPEND), F.count(F.lit(1)).alias(PURCHASES))
        .select(id_col, F.timestamp_micros(c).alias(CUTOFF), SPEND, PURCHASES)
    )
    out = features.join(future, on=[id_col, CUTOFF], how="left")
    return out.withColumns(
        {
            SPEND: F.coalesce(F.col(SPEND), F.lit(0.0)),
            PURCHASES: F.coalesce(F.col(PURCHASES), F.lit(0)).cast("long"),
        }
    )
