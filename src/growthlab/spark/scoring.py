"""Batch scoring on Spark: Parquet in, Parquet out, the registered pyfunc run by
mlflow.pyfunc.spark_udf on the executors.

The same checks as pandas scoring (growthlab.scoring): the model's input columns must be
there and parse as its signature says, deciles are cut against the holdout's scores, and a
drift warning compares the two. The output is written to a temporary folder beside the target
and renamed into place only when every partition is written: the CRM never reads half of it.
Collected to the driver: counts of unparsed cells per column, and rows per decile.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from growthlab import scoring
from growthlab.errors import UserError
from growthlab.scoring import ScoringJob
from growthlab.spark.frames import first_line, read

log = logging.getLogger(__name__)

SPARK_TYPES = {"double": "double", "float": "double", "long": "bigint", "integer": "int"}
OUTPUT = "__output__"


def score(spark: Any, job: ScoringJob) -> dict[str, float]:
    """Score job.source into the Parquet folder job.target; rows and PSI (NaN: no deciles)."""
    if job.task.whole_input:
        raise UserError(f"a {job.task.name} model scores whole series: use engine=pandas")
    if job.target.suffix.lower() not in ("", ".parquet"):
        raise UserError("engine=spark writes Parquet: give OUTPUT a folder or a .parquet name")
    fmt = "csv" if job.source.suffix.lower() == ".csv" else "parquet"
    frame = read(spark, str(job.source), fmt, job.read_options)
    if job.cutoff:
        if not job.task.scores_logs:
            raise UserError(f"a {job.task.name} model scores rows as they are: leave CUTOFF unset")
        frame = job.task.table_from_log_spark(frame, job.cutoff, job.schema)
    frame = conform(frame, job.input_schema)
    scored = predict(spark, job, frame)
    ranked = job.reference is not None and job.task.score_column in scored.columns
    if ranked:
        cuts = scoring.cut_points(job.reference)
        scored = scored.withColumn("decile", decile(F.col(job.task.score_column), cuts))
    scored = scored.withColumn("model_version", F.lit(job.model_version))
    write(scored, job.target)
    written = spark.read.parquet(str(job.target))
    if not ranked:
        return {"rows": float(written.count()), "psi": float("nan")}
    counts = {
        r["decile"]: r["n"]
        for r in written.groupBy("decile").agg(F.count("*").alias("n")).collect()
    }
    actual = np.array([counts.get(d, 0) for d in range(1, scoring.N_BINS + 1)], dtype=float)
    expected = np.bincount(
        scoring.deciles(job.reference, cuts) - 1, minlength=scoring.N_BINS
    ).astype(float)
    drift = scoring.psi(expected, actual)
    if drift > job.psi_threshold:
        log.warning(
            "score distribution drifted from the model's holdout: PSI %.3f > %.2f; "
            "check the input or retrain",
            drift,
            job.psi_threshold,
        )
    return {"rows": float(actual.sum()), "psi": drift}


def conform(frame: DataFrame, schema: dict[str, str]) -> DataFrame:
    """The model's input columns typed as its signature says; one line names a missing column
    or a column with cells that do not parse (how many, never their values)."""
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise UserError(
            f"input lacks column(s) {', '.join(map(repr, missing))} the model needs; "
            "add them (blank values are allowed)"
        )
    typed: dict[str, Column] = {}
    checks = []
    for column, kind in schema.items():
        raw = F.col(f"`{column}`")
        if kind in SPARK_TYPES:
            parsed = raw.try_cast(SPARK_TYPES[kind])
            infinite = F.abs(parsed.cast("double")) == float("inf")
            bad = raw.isNotNull() & (parsed.isNull() | infinite)
            checks.append(F.sum(bad.cast("long")).alias(column))
            typed[column] = parsed
        elif kind == "string":
            typed[column] = raw.cast("string")
    if checks:
        counts = frame.agg(*checks).first().asDict()
        for column, count in counts.items():
            if count:
                raise UserError(
                    f"column {column!r} must be finite numbers but {count} rows are not; "
                    "fix those rows of the input"
                )
    return frame.withColumns({c: v.alias(c) for c, v in typed.items()}) if typed else frame


def predict(spark: Any, job: ScoringJob, frame: DataFrame) -> DataFrame:
    """The pyfunc's output columns appended to the input, computed by spark_udf."""
    import mlflow.pyfunc

    if job.example is None or job.example.empty:
        raise UserError("the model has no holdout to read its output columns from; retrain it")
    sample = job.model.predict(job.example.head(5))
    result = ", ".join(f"`{c}` {_ddl(sample[c])}" for c in sample.columns)
    try:
        udf = mlflow.pyfunc.spark_udf(spark, job.model_uri, result_type=result, env_manager="local")
    except Exception as exc:  # noqa: BLE001 - MlflowException: one line
        raise UserError(f"cannot load the model into Spark: {first_line(exc)}") from None
    columns = list(job.input_schema)
    output = frame.withColumn(OUTPUT, udf(F.struct(*[F.col(f"`{c}`") for c in columns])))
    extra = [c for c in frame.columns if c not in job.input_schema]
    return output.select(*[F.col(f"`{c}`") for c in extra], F.col(f"{OUTPUT}.*"))


def _ddl(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "bigint"
    if pd.api.types.is_float_dtype(values):
        return "double"
    return "string"


def decile(score: Column, cuts: np.ndarray) -> Column:
    """scoring.deciles on Spark: 1 = the top 10 % of the reference scores, 10 = the bottom."""
    above = sum((F.when(score >= float(c), 1).otherwise(0) for c in cuts), F.lit(0))
    return (F.lit(scoring.N_BINS) - above).cast("long")


def write(frame: DataFrame, target: Path) -> None:
    """Write to a temporary folder beside the target, then rename it into place."""
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}{scoring.TEMP_SUFFIX}")
    shutil.rmtree(temp, ignore_errors=True)
    try:
        frame.write.mode("errorifexists").parquet(str(temp))
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)  # the previous output stays as it was
        raise
    if target.is_dir():
        old = target.with_name(f".{target.name}.{os.getpid()}.old")
        os.replace(target, old)
        os.replace(temp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if target.exists():
            target.unlink()
        os.replace(temp, target)
