"""Reading tables into Spark lazily, and the few facts about them the driver needs."""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from growthlab.data.snapshots import check_log_to_score
from growthlab.errors import UserError

NUMBERS = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)


def read(
    spark: SparkSession,
    path: str | None,
    fmt: str,
    options: Mapping[str, Any],
    table: str | None = None,
) -> DataFrame:
    """A Parquet or CSV file, folder or glob, or a catalog table, as a lazy DataFrame."""
    if table:
        try:
            return spark.table(table)
        except Exception as exc:  # noqa: BLE001 - AnalysisException: say which table
            raise UserError(
                f"cannot read table {table!r}: {first_line(exc)}; fix dataset.table"
            ) from None
    if not path:
        raise UserError("dataset.path is required; give it on the command line (dataset.path=...)")
    local = Path(path).expanduser()
    if "://" not in path and not (local.exists() or glob.glob(str(local))):
        raise UserError(f"data path {path!r} does not exist; fix dataset.path")
    where = path if "://" in path else str(local)
    reader = spark.read.options(**{str(k): str(v) for k, v in options.items()})
    try:
        if fmt == "csv":
            frame = reader.option("header", "true").option("inferSchema", "true").csv(where)
        else:
            frame = reader.parquet(where)
    except Exception as exc:  # noqa: BLE001 - AnalysisException or a Java error
        raise UserError(
            f"cannot read {path!r} as {fmt}: {first_line(exc)}; "
            "check dataset.format and dataset.read_options"
        ) from None
    return frame


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def with_times(frame: DataFrame, column: str | None) -> DataFrame:
    """The time column as timestamps (CSV text is parsed; naive times are UTC, see FIXED)."""
    if not column or column not in frame.columns:
        return frame
    kind = frame.schema[column].dataType
    if isinstance(kind, T.TimestampType):
        return frame
    return frame.withColumn(column, F.to_timestamp(F.col(column)))


def log_to_score(log: DataFrame, roles: Mapping[str, str | None] | None, model: str) -> DataFrame:
    """data.snapshots.log_to_score on Spark: the same checks, times as timestamps."""
    roles = check_log_to_score(log.columns, roles, model)
    return with_times(log, roles["time"])


def digest(frame: DataFrame) -> tuple[int, str]:
    """Rows and a content hash of the table in one pass on the executors (order-independent:
    a lake has no row order); two numbers reach the driver."""
    hashed = F.xxhash64(*[F.col(f"`{c}`") for c in frame.columns])
    row = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        F.bit_xor(hashed).alias("x"),
        F.sum(F.pmod(hashed, F.lit(2_147_483_647))).alias("s"),
    ).first()
    text = "\0".join(frame.columns) + f"|{row['rows']}|{row['x']}|{row['s']}"
    return int(row["rows"]), hashlib.sha256(text.encode()).hexdigest()[:16]


def feature_columns(frame: DataFrame, excluded: Sequence[str]) -> list[str]:
    """Every column that is not a declared non-feature (Columns.features on Spark)."""
    return [c for c in frame.columns if c not in set(excluded)]


def counts_as_doubles(frame: DataFrame, features: Sequence[str], keep: Sequence[str]) -> DataFrame:
    """Integer feature columns as doubles, like Columns.features: a scored file with a blank
    turns a count column into floats, and the signature must accept both."""
    kinds = {f.name: f.dataType for f in frame.schema.fields}
    return frame.select(
        *[
            F.col(f"`{c}`").cast("double").alias(c)
            if isinstance(kinds[c], NUMBERS) and c not in keep
            else F.col(f"`{c}`")
            for c in frame.columns
        ]
    )


def sample(frame: DataFrame, rows: int, total: int, seed: int) -> pd.DataFrame:
    """A seeded sample of at most `rows` rows, collected to the driver (documented callers
    only). Rows are chosen by a seeded hash of their content, so the sample is the same
    however Spark partitioned or ordered them (local mode and a cluster alike)."""
    columns = [F.col(f"`{c}`") for c in frame.columns]
    ranked = frame.withColumn("__h__", F.xxhash64(*columns, F.lit(seed)))
    share = 1.2 * rows / total if total else 1.0
    if share < 1:  # keep a little more than needed by hash range, then the lowest hashes
        ranked = ranked.where(F.col("__h__") < F.lit(int(-(2**63) + share * 2**64)))
    table = ranked.toPandas().sort_values("__h__", kind="stable").head(rows)
    return table.drop(columns="__h__").reset_index(drop=True)
