"""XGBoost on Spark, handed on as the usual raw-columns pipeline; scores computed on executors.

The encoder (FrameEncoder: column types, frozen category levels) is fitted on a seeded sample
of the training split on the driver; the executors encode their partitions with it and
xgboost.spark trains the booster across `num_workers` Spark tasks. The booster is then loaded
into a plain xgboost.XGBClassifier behind the same encoder: the registered model is exactly the
pipeline the pandas engine registers, and needs no Spark to score.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from growthlab.errors import UserError

log = logging.getLogger(__name__)

# Set by xgboost.spark itself (one task per worker, its cores from spark.task.cpus).
NOT_PASSED = {
    "n_jobs",
    "nthread",
    "enable_categorical",
    "missing",
    "objective",
    "callbacks",
    "early_stopping_rounds",
}
SCORE = "__score__"


def distributed(model: Any) -> bool:
    """Whether a pipeline ends in an estimator with a Spark implementation (XGBClassifier)."""
    from xgboost import XGBClassifier

    return isinstance(model, Pipeline) and type(model.steps[-1][1]) is XGBClassifier


def fit_xgboost(
    model: Pipeline,
    train: DataFrame,
    features: list[str],
    label: str,
    sample: pd.DataFrame,
    num_workers: int,
) -> Pipeline:
    """The pipeline with its encoder fitted on `sample` and its booster trained on Spark."""
    from xgboost import XGBClassifier
    from xgboost.spark import SparkXGBClassifier

    encoder = clone(Pipeline(model.steps[:-1])).fit(sample[features])
    probe = encoder.transform(sample[features].head(50))
    if not isinstance(probe, pd.DataFrame):
        raise UserError(
            "engine=spark trains XGBoost on encoded columns: set preprocessing.one_hot=false"
        )
    names = [str(c) for c in probe.columns]
    kinds = ["c" if isinstance(probe[c].dtype, pd.CategoricalDtype) else "q" for c in probe]
    slots = [f"f{i}" for i in range(len(names))]  # Spark-safe names; the booster gets the real ones
    encoded = train.select(*[f"`{c}`" for c in features], label).mapInPandas(
        _encoder_function(encoder, features, slots, label),
        T.StructType(
            [T.StructField(s, T.DoubleType()) for s in slots]
            + [T.StructField(label, T.DoubleType())]
        ),
    )
    # One partition per XGBoost worker, by a hash of each row and sorted within: the rows a
    # worker gets and their order (which subsampling and float sums see) do not depend on how
    # Spark happened to shuffle them, so local mode and a cluster train the same booster.
    everything = [*slots, label]
    encoded = encoded.repartition(num_workers, *everything).sortWithinPartitions(*everything)
    estimator: XGBClassifier = model.steps[-1][1]
    params = {k: v for k, v in estimator.get_params().items() if k not in NOT_PASSED}
    params = {k: v for k, v in params.items() if v is not None}
    spark_model = SparkXGBClassifier(
        features_col=slots,
        label_col=label,
        num_workers=num_workers,
        feature_types=kinds if "c" in kinds else None,
        missing=float("nan"),
        verbose=False,  # one evaluation line per tree on stderr otherwise
        **params,
    ).fit(encoded)
    booster = spark_model.get_booster()
    booster.feature_names = names
    booster.feature_types = kinds
    fitted = clone(estimator)
    fitted.load_model(bytearray(booster.save_raw("ubj")))
    return Pipeline([*encoder.steps, (model.steps[-1][0], fitted)])


def _encoder_function(encoder: Pipeline, features: list[str], slots: list[str], label: str) -> Any:
    """Encode each partition with the fitted encoder: categories become their codes."""

    def encode(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            out = encoder.transform(batch[features])
            columns = {}
            for slot, name in zip(slots, out.columns, strict=True):
                values = out[name]
                if isinstance(values.dtype, pd.CategoricalDtype):
                    codes = values.cat.codes.to_numpy(dtype=np.float64)
                    columns[slot] = np.where(codes < 0, np.nan, codes)
                else:
                    columns[slot] = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
            columns[label] = batch[label].to_numpy(np.float64)
            yield pd.DataFrame(columns)

    return encode


def scores(model: Any, frame: DataFrame, features: list[str], keep: list[str]) -> pd.DataFrame:
    """The positive-class score of every row, computed on the executors; only the score and
    the `keep` columns (label, oracle) are collected to the driver."""
    schema = T.StructType(
        [T.StructField(c, T.DoubleType()) for c in keep] + [T.StructField(SCORE, T.DoubleType())]
    )

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            score = model.predict_proba(batch[features])[:, 1]
            out = {c: batch[c].to_numpy(np.float64) for c in keep}
            yield pd.DataFrame({**out, SCORE: score.astype(np.float64)})

    columns = [f"`{c}`" for c in [*features, *keep]]
    return frame.select(*columns).mapInPandas(predict, schema).toPandas()
