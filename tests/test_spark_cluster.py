"""A real Spark cluster: a standalone master and two workers on 127.0.0.1, started from the
pyspark distribution (bin/spark-class), run churn from a Parquet log end to end; its metrics
equal the local-mode run's. The test stops exactly the processes it started (their process
groups, which hold the executors the workers launched)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from growthlab.data.simulator import SimulatedTransactions
from growthlab.paths import ROOT
from tests.conftest import store_overrides

pytestmark = pytest.mark.slow

LOG_COLUMNS = [
    "dataset.columns.id=customer_id",
    "dataset.columns.time=timestamp",
    "dataset.columns.amount=amount",
    "dataset.columns.channel=channel",
    "dataset.columns.drop=[transaction_id,product_category]",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def start(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """One daemon in its own process group (the group is what we stop)."""
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(spark_class()), *args], stdout=out, stderr=subprocess.STDOUT,
            env=env, start_new_session=True,
        )  # fmt: skip


def alive_workers(ui_port: int) -> int:
    url = f"http://127.0.0.1:{ui_port}/json/"
    with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(url, timeout=2) as answer:
        return int(json.load(answer).get("aliveworkers", 0))
    return 0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """spark://127.0.0.1:<port> with two one-core workers; stopped after the test."""
    port, ui = free_port(), free_port()
    started = [
        start(
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
            log=tmp_path / "master.log",
        )  # fmt: skip
    ]
    try:
        for i in range(2):
            started.append(
                start(
                    "org.apache.spark.deploy.worker.Worker",
                    f"spark://127.0.0.1:{port}",
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    "1",
                    "--memory",
                    "1500m",
                    "--webui-port",
                    str(free_port()),
                    "--work-dir",
                    str(tmp_path / f"work{i}"),
                    log=tmp_path / f"worker{i}.log",
                )  # fmt: skip
            )
        deadline = time.monotonic() + 120
        while alive_workers(ui) < 2:
            assert time.monotonic() < deadline, (tmp_path / "master.log").read_text()[-2000:]
            assert all(p.poll() is None for p in started), "a Spark daemon exited"
            time.sleep(1)
        yield f"spark://127.0.0.1:{port}"
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # the daemon and its executors
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def train(master: str, lake: Path, store: Path) -> dict[str, float]:
    """`python -m growthlab` on the log with engine=spark at `master`; the run's metrics."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "growthlab",
            "experiments=churn_xgboost",
            "dataset=file",
            f"dataset.path={lake}",
            *LOG_COLUMNS,
            "engine=spark",
            f"engine.master='{master}'",
            "engine.num_workers=2",
            "+engine.conf.spark.executor.memory=1g",
            "model.n_estimators=30",
            "task.n_cutoffs=4",
            "registry.register=false",
            *store_overrides(store),
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "GROWTHLAB_DEBUG": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with sqlite3.connect(store / "mlflow.db") as db:
        rows = db.execute("select key, value from metrics where key like 'test_%'").fetchall()
    return dict(rows)


def test_churn_on_a_standalone_cluster_equals_local_mode(cluster: str, tmp_path: Path) -> None:
    columns = {"id": "customer_id"}
    log = SimulatedTransactions("log", columns, n_customers=1500, days=700, seed=5).read()
    lake = tmp_path / "lake"
    lake.mkdir()
    for i in range(4):
        log.iloc[i::4].to_parquet(lake / f"part-{i}.parquet", index=False)
    on_cluster = train(cluster, lake, tmp_path / "cluster")
    local = train("local[2]", lake, tmp_path / "local")
    assert on_cluster.keys() == local.keys() and "test_roc_auc" in local
    for key, value in local.items():
        assert on_cluster[key] == pytest.approx(value, abs=1e-6), key
