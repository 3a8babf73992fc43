"""Binary labels and train / valid / test splits of a Spark DataFrame (lead scoring, churn)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from growthlab.data.dataset import Columns
from growthlab.data.split import _check_sizes
from growthlab.errors import UserError
from growthlab.spark.frames import counts_as_doubles
from growthlab.tasks import LABEL, SparkPrepared

ORACLE = "__oracle__"


def binary_label(frame: DataFrame, target: str, positive_label: object) -> DataFrame:
    """The target as 0/1 in LABEL, checked like tasks.lead_scoring.binary_target (one
    aggregation; only counts reach the driver)."""
    values = F.col(f"`{target}`")
    kind = frame.schema[target].dataType
    if positive_label is not None:
        label = (values.cast("string") == str(positive_label)).cast("long")
    elif isinstance(kind, T.BooleanType | T.NumericType):
        label = values.cast("long")
    else:
        raise UserError(
            f"target {target!r} is {kind.simpleString()}, not 0/1; declare "
            "dataset.columns.positive_label"
        )
    bad = values.isNotNull() & ~values.cast("double").isin(0.0, 1.0)
    row = frame.agg(
        F.sum(values.isNull().cast("long")).alias("missing"),
        F.sum(bad.cast("long")).alias("bad") if positive_label is None else F.lit(0).alias("bad"),
        F.sum(label).alias("positives"),
    ).first()
    if row["missing"]:
        raise UserError(
            f"target {target!r} has {row['missing']} missing values; "
            "drop those rows or fill them before training"
        )
    if row["bad"]:
        raise UserError(f"target {target!r} is not 0/1; declare dataset.columns.positive_label")
    if positive_label is not None and not row["positives"]:
        raise UserError(
            f"positive label {positive_label!r} never occurs in target {target!r}; "
            "fix dataset.columns.positive_label"
        )
    return frame.withColumn(LABEL, label)


def split(
    frame: DataFrame, time: str | None, valid_size: float, test_size: float, seed: int
) -> dict[str, DataFrame]:
    """Out of time by the time column's quantiles (rows sharing a time stay together), or at
    random, stratified by LABEL as the pandas path is: each row draws a seeded uniform number
    (a hash of its content, so any partitioning gives the same splits) and is cut at its own
    class's quantiles of the draw (one aggregation; four numbers reach the driver)."""
    _check_sizes(valid_size, test_size)
    if time:
        stamp = F.unix_micros(F.col(f"`{time}`").cast("timestamp"))
        frame = frame.withColumn("__t__", stamp)
        cuts = frame.approxQuantile("__t__", [1 - valid_size - test_size, 1 - test_size], 1e-4)
        if len(cuts) < 2 or cuts[0] >= cuts[1]:
            raise UserError(
                f"time column {time!r} has too few distinct dates for an out-of-time split; "
                "remove dataset.columns.time for a random split"
            )
        t = F.col("__t__")
        parts = {
            "train": t < cuts[0],
            "valid": (t >= cuts[0]) & (t < cuts[1]),
            "test": t >= cuts[1],
        }
        return {name: frame.where(rule).drop("__t__") for name, rule in parts.items()}
    hashed = F.xxhash64(*[F.col(f"`{c}`") for c in frame.columns], F.lit(seed))
    frame = frame.withColumn("__u__", F.pmod(hashed, F.lit(2**53)) / float(2**53))
    u, first = F.col("__u__"), 1 - valid_size - test_size
    rows = frame.groupBy(LABEL).agg(
        F.percentile_approx(u, F.array(F.lit(first), F.lit(1 - test_size)), 100_000).alias("q")
    )
    cuts = {r[LABEL]: r["q"] for r in rows.collect()}
    valid_from, test_from = F.lit(first), F.lit(1 - test_size)
    for label, (low, high) in cuts.items():  # percentile_approx returns rows' own draws
        valid_from = F.when(F.col(LABEL) == label, F.lit(low)).otherwise(valid_from)
        test_from = F.when(F.col(LABEL) == label, F.lit(high)).otherwise(test_from)
    parts = {
        "train": u < valid_from,
        "valid": (u >= valid_from) & (u < test_from),
        "test": u >= test_from,
    }
    return {name: frame.where(rule).drop("__u__") for name, rule in parts.items()}


def assemble(
    parts: Mapping[str, DataFrame], columns: Columns, info: dict[str, Any]
) -> SparkPrepared:
    """Feature columns, LABEL (and ORACLE) per split; rows and base rate per split (one small
    aggregation each), refusing a split with a single class."""
    first = next(iter(parts.values()))
    excluded = set(columns.not_features()) | {LABEL}
    features = [c for c in first.columns if c not in excluded]
    keep = [LABEL, *columns.categorical]
    selected = [*features, LABEL]
    if columns.oracle:
        selected.append(ORACLE)
    prepared: dict[str, DataFrame] = {}
    for name, part in parts.items():
        if columns.oracle:
            part = part.withColumn(ORACLE, F.col(f"`{columns.oracle}`").cast("double"))
        part = counts_as_doubles(part.select(*[f"`{c}`" for c in selected]), features, keep)
        row = part.agg(F.count(F.lit(1)).alias("n"), F.sum(LABEL).alias("p")).first()
        n, positives = int(row["n"]), int(row["p"] or 0)
        if n == 0 or positives in (0, n):
            raise UserError(
                f"the {name} split has only one class or no rows; use more rows "
                "or a larger task.valid_size / task.test_size"
            )
        info[f"{name}_rows"], info[f"{name}_base_rate"] = n, positives / n
        prepared[name] = part
    return SparkPrepared(prepared, features, LABEL, ORACLE if columns.oracle else None, info)
