"""`make serve`: the champion behind `mlflow models serve` scores like the batch scorer."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from growthlab import handoff
from growthlab.data.simulator import MarketingSimulator
from growthlab.runner import run
from tests.conftest import FAST, compose_config, score_file, store_overrides
from tests.test_sentiment import FAST as SENTIMENT_FAST

pytestmark = pytest.mark.slow

NAME = "lead_scoring-simulated_leads"
BIN = Path(sys.executable).parent
READY_SECONDS = 90


@pytest.fixture(scope="module")
def promoted(module_store: Path) -> Path:
    """A store whose model has been trained and promoted to @champion."""
    run(compose_config([*FAST, *store_overrides(module_store)]))
    handoff.promote(
        compose_config(["command=promote", "registry.gate.resamples=100", f"store={module_store}"])
    )
    return module_store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(promoted: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make serve` for the tmp store; always stopped, with everything it started."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(promoted, f"models:/{NAME}@champion", log) as url:
        yield url


@contextmanager
def serving(store: Path, model_uri: str, log: Path) -> Iterator[str]:
    """`mlflow models serve` of a registered model in `store`: its URL once /ping answers."""
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{store}/mlflow.db",
        "MLFLOW_REGISTRY_URI": f"sqlite:///{store}/mlflow.db",  # not one an earlier test left
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # it execs uvicorn via bash
    }
    command = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no answer on /ping in {READY_SECONDS}s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (bash, uvicorn and its workers), then KILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def invoke(url: str, frame: pd.DataFrame) -> list[dict[str, float]]:
    """POST rows as the CRM would: dataframe_split JSON, NaN as null, dates as ISO text."""
    split = frame.to_json(orient="split", index=False, date_format="iso")
    body = json.dumps({"dataframe_split": json.loads(split)}).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())["predictions"]


def test_served_scores_equal_batch_scores(server: str, promoted: Path, tmp_path: Path) -> None:
    leads = MarketingSimulator(11).leads(400).drop(columns=["converted", "p_convert"])
    assert leads["company_size"].isna().any() and leads["job_seniority"].isna().any()
    payload = json.loads(leads.to_json(orient="split", index=False, date_format="iso"))
    assert any(row[leads.columns.get_loc("company_size")] is None for row in payload["data"])

    source, target = tmp_path / "leads.csv", tmp_path / "scores.parquet"
    leads.to_csv(source, index=False)
    score_file(promoted, source, target)
    batch = pd.read_parquet(target)["score"].to_numpy(dtype=float)

    predictions = invoke(server, leads)
    assert len(predictions) == len(leads)
    served = np.array([row["score"] for row in predictions])
    np.testing.assert_allclose(served, batch, rtol=1e-6)
    assert 0 < served.min() < served.max() < 1


def test_server_answers_a_single_row(server: str) -> None:
    one = MarketingSimulator(12).leads(1).drop(columns=["converted", "p_convert", "email"])
    predictions = invoke(server, one)
    assert len(predictions) == 1 and 0 < predictions[0]["score"] < 1


def test_served_model_takes_integers_in_the_json(
    server: str, promoted: Path, tmp_path: Path
) -> None:
    """Whole-number columns sent as JSON integers (a CRM sends 12, not 12.0) score like the
    batch scorer scores the same rows."""
    leads = MarketingSimulator(12).leads(200).drop(columns=["converted", "p_convert"])
    counts = [
        c
        for c in leads.columns
        if leads[c].dtype.kind in "if"
        and np.array_equal(leads[c].dropna(), leads[c].dropna().round())
    ]
    assert counts, "the simulated leads have count columns"
    whole = leads.dropna(subset=counts).astype({c: "int64" for c in counts})
    body = json.loads(whole.to_json(orient="split", index=False, date_format="iso"))
    assert isinstance(body["data"][0][whole.columns.get_loc(counts[0])], int)
    served = np.array([row["score"] for row in invoke(server, whole)])
    source, target = tmp_path / "whole.csv", tmp_path / "scores.csv"
    whole.to_csv(source, index=False)
    score_file(promoted, source, target)
    np.testing.assert_allclose(served, pd.read_csv(target)["score"].to_numpy(), rtol=1e-6)


def test_served_sentiment_model_takes_raw_text(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The registered sentiment model behind REST: raw text in, a class and its
    probabilities out, as the in-process pyfunc answers."""
    store = tmp_path_factory.mktemp("sentiment_store")
    overrides = ["task=sentiment", "model=text_tfidf_logistic", *SENTIMENT_FAST]
    overrides += ["preprocessing.text_features=[tfidf,lexicon]"]
    trained = run(compose_config([*overrides, *store_overrides(store)]))
    texts = pd.DataFrame({"text": ["the app is excellent", "the jacket is terrible", "ok"]})
    expected = mlflow.pyfunc.load_model(trained.model_uri).predict(texts)
    log = tmp_path_factory.mktemp("serve_sentiment") / "serve.log"
    with serving(store, "models:/sentiment-simulated_reviews@challenger", log) as url:
        predictions = invoke(url, texts)
    answer = pd.DataFrame(predictions)
    assert list(answer.columns) == ["label", "p_negative", "p_neutral", "p_positive"]
    assert answer["label"].tolist()[:2] == ["positive", "negative"]
    assert answer["label"].tolist() == expected["label"].tolist()
    probabilities = answer.filter(like="p_").to_numpy(dtype=float)
    np.testing.assert_allclose(probabilities, expected.filter(like="p_").to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-9)
