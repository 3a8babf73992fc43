"""Customer-value snapshots on Spark: the same rows, columns and labels as
growthlab.data.value_targets.build_value_snapshots (whose docstring defines them).

The features are churn's Spark snapshots (growthlab.spark.snapshots) with an active window
spanning the log; the labels are one more groupBy of the events in [cutoff, cutoff +
horizon_days), joined on (customer, cutoff). Rows come in no particular order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from growthlab.data.snapshots import CUTOFF, check_times
from growthlab.data.value_targets import (
    NAIVE,
    PURCHASES,
    SPEND,
    check_no_refunds,
    check_value_columns,
    feature_options,
)
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
    check_value_columns(log.columns, id_col, time_col, amount_col, horizon_days)
    facts = facts or log_facts(log, id_col, time_col, amount_col)
    times = check_times(time_range(facts, time_col), "the transaction log")
    check_no_refunds(amount_col, int(facts["negative_amount"] or 0))
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
        facts=facts,
        **options,
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
