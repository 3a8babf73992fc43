"""Spark helpers for engine=spark: the session, reading, snapshots, training and scoring.

Everything under growthlab.spark imports pyspark; nothing else in growthlab does, so the
project runs without the `spark` extra. Nothing here collects rows to the driver except what
a function's docstring says it collects (counts, min/max, a seeded sample, scores and labels).
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from growthlab.errors import UserError

INSTALL = "install it with `make install-spark` (pip install -e '.[spark]')"
# PySpark 4 warns on every pandas 3 conversion; harmless here (STACK.md), and pytest turns
# FutureWarnings into errors: only this message is silenced.
PANDAS_WARNING = ".*does not yet fully support pandas >= 3.*"
# Fixed settings: Spark's timestamps are instants, so a naive log time means UTC on every
# machine (the pandas path's arithmetic), and pandas <-> Spark conversions use Arrow.
FIXED = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


def require_spark() -> None:
    """PySpark installed and a Java runtime found, or one line saying what to install."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UserError(f"engine=spark needs PySpark: {INSTALL}") from None
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").exists()) and not shutil.which("java"):
        raise UserError(
            "engine=spark needs Java 17: install it (apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )


def session(master: str, app_name: str, conf: Mapping[str, Any]) -> Any:
    """The active SparkSession, or a new one for `master` with `conf` (Databricks: its own)."""
    require_spark()
    quiet_pandas_warning()
    # Spark's Python workers run `python3` from PATH unless told: use this interpreter (venv).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**settings(conf), **FIXED}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def settings(conf: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Spark settings as flat dotted keys: YAML's `spark.driver.memory: 2g` and the nested
    form a command-line override makes (`+engine.conf.spark.executor.memory=8g`) alike."""
    flat: dict[str, str] = {}
    for key, value in conf.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(settings(value, f"{name}."))
        else:
            flat[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return flat


def quiet_pandas_warning() -> None:
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
