"""engine=spark: one-line errors without PySpark or Java, churn and lead scoring trained with
xgboost.spark into the usual pyfunc, and Spark scoring (spark_udf) equal to pandas scoring.

The runs share one local SparkSession (the `spark` fixture) and one store; they are slow
(a Spark run is tens of seconds on 2 cores), the error lines are not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from growthlab.data.simulator import SimulatedTransactions
from growthlab.errors import UserError
from growthlab.paths import ROOT
from growthlab.runner import RunResult, run
from tests.conftest import compose_config, one_line_error, score_file, store_overrides

CHURN = [
    "experiments=churn_xgboost",
    "dataset.n_customers=1500",
    "dataset.days=700",
    "model.n_estimators=30",
    "model.n_jobs=1",
    "task.n_cutoffs=4",
]
MODEL = "churn-simulated_transactions"


def cli(*args: str, env: dict[str, str], store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, *store_overrides(store)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GROWTHLAB_DEBUG": "", **env},
    )


def test_engine_spark_without_java_says_what_to_install(store: Path) -> None:
    done = cli(
        "-m", "growthlab", *CHURN, "engine=spark", env={"PATH": "/nonexistent", "JAVA_HOME": ""},
        store=store,
    )  # fmt: skip
    assert "needs Java 17" in one_line_error(done)


def test_engine_spark_without_pyspark_says_what_to_install(store: Path) -> None:
    # pyspark hidden from this one process (a None entry makes its import fail), as on a
    # machine without the spark extra.
    code = (
        "import sys; sys.modules['pyspark'] = None; "
        "from growthlab.cli import main; sys.argv[0] = 'growthlab'; main()"
    )
    done = cli("-c", code, *CHURN, "engine=spark", env={}, store=store)
    assert "make install-spark" in one_line_error(done)


def test_pandas_is_the_default_engine() -> None:
    from growthlab.build import build
    from growthlab.engines import PandasEngine

    assert isinstance(build(compose_config([]).engine, "engine"), PandasEngine)


def test_spark_reads_a_folder_a_glob_a_csv_and_a_catalog_table_lazily(
    spark: object, tmp_path: Path
) -> None:
    from pyspark.sql import types as T

    from growthlab.data.files import FileDataset
    from growthlab.spark.frames import with_times

    log = SimulatedTransactions("log", {"id": "customer_id"}, n_customers=50, seed=1).read()
    lake = tmp_path / "lake"
    lake.mkdir()
    for i in range(2):
        log.iloc[i::2].to_parquet(lake / f"part-{i}.parquet", index=False)
    log.to_csv(tmp_path / "log.csv", index=False)
    columns = {"id": "customer_id", "time": "timestamp"}
    for path in (lake, lake / "*.parquet", tmp_path / "log.csv"):
        frame = with_times(FileDataset("f", columns, str(path)).read_spark(spark), "timestamp")
        assert frame.count() == len(log) and set(frame.columns) == set(log.columns)
        assert isinstance(frame.schema["timestamp"].dataType, T.TimestampType)
    spark.read.parquet(str(lake)).createOrReplaceTempView("transactions")
    table = FileDataset("f", columns, table="transactions").read_spark(spark)  # no path
    assert table.count() == len(log)
    with pytest.raises(UserError, match="does not exist; fix dataset.path"):
        FileDataset("f", columns, str(tmp_path / "nowhere")).read_spark(spark)


def test_spark_random_splits_are_stratified_like_pandas_and_partition_free(spark: object) -> None:
    from growthlab.data.split import stratified_split
    from growthlab.spark.splits import split
    from growthlab.tasks import LABEL

    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.07).astype("int64")  # a rare class, as conversions are
    table = pd.DataFrame({"x": rng.normal(size=y.size), LABEL: y})
    frame = spark.createDataFrame(table)
    parts = split(frame, None, 0.2, 0.2, seed=0)
    expected = stratified_split(y, 0.2, 0.2, seed=0)
    for name, part in parts.items():
        got = part.toPandas()
        for label in (0, 1):  # the same rows per class as pandas's split, within one
            want = int((y[expected[name]] == label).sum())
            assert abs(int((got[LABEL] == label).sum()) - want) <= 1, (name, label)
    again = split(frame.repartition(5), None, 0.2, 0.2, seed=0)["test"].toPandas()
    first = parts["test"].toPandas()
    assert sorted(again["x"]) == sorted(first["x"])  # however Spark partitioned the rows


# --- runs on a local Spark session ------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(spark: object, module_store: Path) -> dict[str, RunResult]:
    """Churn trained by each engine on the same simulated log (registered, spark last)."""
    common = [*CHURN, *store_overrides(module_store)]
    return {
        engine: run(compose_config([*common, f"engine={engine}"])) for engine in ("pandas", "spark")
    }


@pytest.mark.slow
def test_spark_churn_is_the_pandas_pipeline_with_close_metrics(
    trained: dict[str, RunResult],
) -> None:
    from xgboost import XGBClassifier

    spark, pandas = trained["spark"], trained["pandas"]
    assert type(spark.model.steps[-1][1]) is XGBClassifier  # a plain booster, no Spark inside
    assert spark.data.info["train_rows"] == len(pandas.data.parts["train"].y)
    assert spark.data.info["test_base_rate"] == pytest.approx(pandas.data.parts["test"].y.mean())
    # Same snapshots, same hyperparameters; distributed histograms differ slightly.
    assert abs(spark.metrics["test_roc_auc"] - pandas.metrics["test_roc_auc"]) < 0.03
    assert spark.metrics["test_roc_auc"] > 0.7
    # The MLflow dataset records count every row of each split, not the head their schema uses.
    inputs = MlflowClient().get_run(spark.run_id).inputs.dataset_inputs
    rows = {
        i.dataset.name.rsplit("-", 1)[1]: json.loads(i.dataset.profile)["num_rows"] for i in inputs
    }
    assert rows == {split: len(part.y) for split, part in pandas.data.parts.items()}
    # Figures and tables made from scores and labels are logged as pandas logs them.
    client = MlflowClient()
    logged = {
        f.path
        for folder in ("plots", "tables")
        for f in client.list_artifacts(spark.run_id, folder)
    }
    for name in ("test_roc", "test_cumulative_gains", "test_calibration", "test_retention_value"):
        assert f"plots/{name}.png" in logged, name
    assert {"tables/test_deciles.csv", "tables/test_value_curve.csv"} <= logged


@pytest.mark.slow
def test_spark_udf_scores_equal_pandas_scores_of_the_registered_model(
    trained: dict[str, RunResult], module_store: Path, tmp_path: Path
) -> None:
    log = SimulatedTransactions(
        "log", {"id": "customer_id"}, n_customers=300, days=500, seed=9
    ).read()
    lake = tmp_path / "lake"
    lake.mkdir()
    for i in range(3):  # a folder of Parquet parts
        log.iloc[i::3].to_parquet(lake / f"part-{i}.parquet", index=False)
    cutoff = ["registry.scoring.cutoff=2024-05-01", f"registry.model_name={MODEL}"]
    cutoff.append("registry.alias=challenger")
    score_file(module_store, lake, tmp_path / "risk", "engine=spark", *cutoff)
    log.to_parquet(tmp_path / "log.parquet", index=False)
    score_file(module_store, tmp_path / "log.parquet", tmp_path / "risk.parquet", *cutoff)
    by_spark = pd.read_parquet(tmp_path / "risk").sort_values("customer_id", ignore_index=True)
    by_pandas = pd.read_parquet(tmp_path / "risk.parquet")
    by_pandas = by_pandas.sort_values("customer_id", ignore_index=True)
    assert len(by_spark) == len(by_pandas) > 50
    assert (by_spark["customer_id"].to_numpy() == by_pandas["customer_id"].to_numpy()).all()
    np.testing.assert_allclose(by_spark["score"], by_pandas["score"], atol=1e-9)
    assert (by_spark["decile"].to_numpy() == by_pandas["decile"].to_numpy()).all()
    assert not list(tmp_path.glob(".risk*"))  # the temporary folder was renamed into place


@pytest.mark.slow
def test_models_without_a_spark_implementation_train_on_a_sample_or_are_refused(
    spark: object, module_store: Path
) -> None:
    common = ["dataset=simulated_transactions", "task=churn", *CHURN[1:3], "task.n_cutoffs=4"]
    common += ["model=logistic_regression", "engine=spark"]
    common += ["registry.register=false", *store_overrides(module_store)]
    sampled = run(compose_config([*common, "engine.sample_rows=500"]))
    assert sampled.metrics["test_roc_auc"] > 0.6
    with pytest.raises(UserError, match="engine.sample_rows"):
        run(compose_config([*common, "engine.sample_rows=null"]))


@pytest.mark.slow
def test_spark_lead_scoring_xgboost(spark: object, module_store: Path) -> None:
    overrides = [
        "experiments=lead_scoring_xgboost",
        "dataset.n_rows=3000",
        "model.n_estimators=30",
        "model.n_jobs=1",
        "engine=spark",
        "registry.register=false",
        *store_overrides(module_store),
    ]
    result = run(compose_config(overrides))
    assert result.metrics["test_roc_auc"] > 0.6
    assert "test_oracle_roc_auc" in result.metrics


@pytest.mark.slow
def test_spark_tuning_trials_fit_and_score_on_spark(spark: object, module_store: Path) -> None:
    overrides = [*CHURN, "engine=spark", "tuner=tpe", "tuner.n_trials=2", "tuner.progress=false"]
    result = run(
        compose_config([*overrides, "registry.register=false", *store_overrides(module_store)])
    )
    assert result.metrics["trials_complete"] == 2 and "best_valid_roc_auc" in result.metrics
    assert result.data.info["refit_on"] == "train+valid"


# --- tasks whose models have no Spark implementation: snapshots in Spark, a seeded sample ----


@pytest.mark.slow
def test_spark_customer_value_snapshots_in_spark_train_on_the_sample(
    spark: object, module_store: Path
) -> None:
    common = [
        "experiments=customer_value_xgboost",
        "dataset.n_customers=600",
        "dataset.days=700",
        "model.n_estimators=30",
        "model.n_jobs=1",
        "registry.register=false",
        *store_overrides(module_store),
    ]
    pandas = run(compose_config(common))
    whole = run(compose_config([*common, "engine=spark"]))  # sample_rows above the table's rows
    rows = sum(len(part.X) for part in pandas.data.parts.values())
    assert whole.data.info["sampled_rows"] == whole.data.info["rows_before_sampling"] == rows
    # The whole table, in pandas's row order: the same model and the same figures.
    for key in ("test_normalized_gini", "test_mae", "test_naive_mae", "test_purchases_mae"):
        assert whole.metrics[key] == pytest.approx(pandas.metrics[key], abs=1e-9), key
    # BG/NBD's optimiser starts from amounts summed in another order (1e-12 apart): close.
    assert whole.metrics["test_bgnbd_mae"] == pytest.approx(
        pandas.metrics["test_bgnbd_mae"], rel=1e-6
    )
    sampled = run(compose_config([*common, "engine=spark", "engine.sample_rows=1500"]))
    assert sampled.data.info["sampled_rows"] == 1500 < sampled.data.info["rows_before_sampling"]
    assert sum(len(part.X) for part in sampled.data.parts.values()) == 1500
    assert sampled.metrics["test_normalized_gini"] > 0.3


@pytest.mark.slow
def test_spark_segmentation_of_a_log_trains_on_the_sample(
    spark: object, module_store: Path
) -> None:
    overrides = [
        "experiments=segmentation_kmeans_log",
        "dataset.n_customers=800",
        "tuner=none",
        "model.n_clusters=3",
        "task.stability_resamples=2",
        "engine=spark",
        "engine.sample_rows=500",
        "registry.register=false",
        *store_overrides(module_store),
    ]
    result = run(compose_config(overrides))
    info = result.data.info
    assert info["sampled_rows"] == 500 < info["rows_before_sampling"]
    assert info["shape"] == "transaction_log" and info["engine"] == "spark"
    assert sum(len(part.X) for part in result.data.parts.values()) == 500
    assert result.metrics["test_n_segments"] == 3 and result.metrics["test_silhouette"] > 0
    with pytest.raises(UserError, match="engine.sample_rows"):
        run(compose_config([*overrides, "engine.sample_rows=null"]))
