"""Team mode end to end (slow): `make server`'s module starts PostgreSQL and MLflow with accounts;
one account tunes (two workers, the study on the least-privilege optuna role), promotes and
scores; another cannot move its alias; anonymous requests are refused; and no password is
written anywhere: server database, artifacts, outputs, temporary folders (issue 14)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from growthlab.data.simulator import MarketingSimulator
from growthlab.paths import ROOT
from tests.postgres import ensure_installed, free_port

pytestmark = pytest.mark.slow

ANA, BOB = "ana", "bob"
PASSWORDS = {ANA: "AnaPl4nted-91xq", BOB: "BobPl4nted-73zk"}
MODEL = "lead_scoring-simulated_leads"
SMALL = ["dataset.n_rows=3000", "model.n_estimators=30", "model.n_jobs=1"]


@dataclass
class Server:
    url: str
    state: Path
    scratch: Path

    def env(self, user: str | None) -> dict[str, str]:
        env = {**os.environ, "GROWTHLAB_SERVER_STATE": str(self.state), "GROWTHLAB_DEBUG": ""}
        # Both URIs: an earlier in-process test's mlflow.set_registry_uri leaves MLFLOW_REGISTRY_URI
        # in os.environ, and a child would look for the registry there.
        env.update(
            MLFLOW_TRACKING_URI=self.url, MLFLOW_REGISTRY_URI=self.url, TMPDIR=str(self.scratch)
        )
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            env.pop(key, None)
        if user:
            env.update(MLFLOW_TRACKING_USERNAME=user, MLFLOW_TRACKING_PASSWORD=PASSWORDS[user])
        return env

    def credentials(self) -> dict[str, str]:
        return json.loads((self.state / "credentials.json").read_text())


def module(server_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=900, env=server_env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    ensure_installed()
    state = Path(tempfile.mkdtemp(prefix="growthlab-server-"))
    scratch = Path(tempfile.mkdtemp(prefix="growthlab-scratch-"))
    found = Server(f"http://127.0.0.1:{free_port()}", state, scratch)
    port = found.url.rsplit(":", 1)[1]
    started = module(found.env(None), "growthlab.server", "start", "--port", port)
    try:
        assert started.returncode == 0, started.stderr + (state / "server.log").read_text()[-3000:]
        assert found.url in started.stdout
        for user, password in PASSWORDS.items():
            env = {**found.env(None), "GROWTHLAB_USER_PASSWORD": password}
            made = module(env, "growthlab.server", "user", user)
            assert made.returncode == 0, made.stderr
        yield found
    finally:
        stopped = module(found.env(None), "growthlab.server", "stop")
        assert "stopped the MLflow server" in stopped.stdout, stopped.stderr
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def status(url: str, user: str | None = None, password: str = "") -> int:
    request = urllib.request.Request(f"{url}/api/2.0/mlflow/experiments/search?max_results=1")
    if user:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_anonymous_and_wrong_passwords_are_refused(server: Server) -> None:
    assert status(server.url) == 401
    assert status(server.url, ANA, "wrong-password-123") == 401
    assert status(server.url, ANA, PASSWORDS[ANA]) == 200


def test_credential_files_are_private(server: Server) -> None:
    for name in ("credentials.json", "pgpass", "basic_auth.ini", "server.log"):
        assert (server.state / name).stat().st_mode & 0o077 == 0, name


def test_a_team_trains_tunes_promotes_and_scores_without_leaking(server: Server) -> None:
    creds = server.credentials()
    pg_port = json.loads((server.state / "server.json").read_text())["pg_port"]
    # The study on the optuna role: its password from libpq's PGPASSWORD, never in the URL.
    storage = f"tuner.storage=postgresql+psycopg2://optuna@127.0.0.1:{pg_port}/optuna"
    ana = {**server.env(ANA), "PGPASSWORD": creds["optuna_password"]}
    outputs = []

    def growthlab(env: dict[str, str], *args: str, ok: bool = True) -> str:
        done = module(env, "growthlab", "tracking=server", f"store={server.scratch}/x", *args)
        assert (done.returncode == 0) == ok, done.stderr[-3000:]
        outputs.append(done.stdout + done.stderr)
        return done.stderr

    growthlab(ana, "tuner=tpe", "tuner.n_trials=4", "tuner.n_workers=2", "tuner.progress=false",
              "task.cv_folds=2", storage, *SMALL)  # fmt: skip
    refused = growthlab(server.env(BOB), "command=promote", ok=False)
    assert "growthlab: error: the tracking server refused account 'bob'" in refused
    assert "Traceback" not in refused
    growthlab(ana, "command=promote")
    leads = server.scratch / "leads.csv"
    MarketingSimulator(7).leads(200).drop(columns=["converted", "p_convert"]).to_csv(leads)
    target = server.scratch / "scores.csv"
    growthlab(ana, "command=score", f"registry.scoring.input={leads}",
              f"registry.scoring.output={target}")  # fmt: skip
    assert target.exists()
    outputs.append(served_predictions(ana, leads))

    from mlflow.tracking import MlflowClient

    os.environ.update(MLFLOW_TRACKING_USERNAME=ANA, MLFLOW_TRACKING_PASSWORD=PASSWORDS[ANA])
    try:
        client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
        champion = client.get_model_version_by_alias(MODEL, "champion")
        runs = client.search_runs([client.get_experiment_by_name(MODEL).experiment_id])
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    assert champion.version == "1"  # bob's refused promotion changed nothing
    assert "Gate pass" in (champion.description or "")
    assert len(runs) == 1 + 4 and {r.info.status for r in runs} <= {"FINISHED", "FAILED"}

    planted = [*PASSWORDS.values(), creds["optuna_password"], creds["postgres_password"]]
    for text in outputs:
        assert not [p for p in planted if p in text]
    kept = {server.state / "credentials.json", server.state / "pgpass"}  # 0600, by design
    for folder in (server.state, server.scratch):
        for path in folder.rglob("*"):
            if path.is_file() and path not in kept:
                data = path.read_bytes()
                assert not [p for p in planted if p.encode() in data], path


def served_predictions(env: dict[str, str], leads: Path) -> str:
    """`make serve ARGS=tracking=server`: the champion from the server answers REST calls."""
    import pandas as pd

    port = free_port()
    serve = [
        str(Path(sys.executable).parent / "mlflow"), "models", "serve",
        "-m", f"models:/{MODEL}@champion", "--env-manager", "local",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    path = f"{Path(sys.executable).parent}:{env['PATH']}"  # uvicorn from the venv (STACK.md)
    process = subprocess.Popen(
        serve, env={**env, "PATH": path}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    rows = pd.read_csv(leads, index_col=0).head(3)
    body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/invocations", data=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=30) as answer:
                    predictions = json.loads(answer.read())["predictions"]
                break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None:
                    raise AssertionError(
                        f"serve failed:\n{process.communicate()[0][-3000:]}"
                    ) from None
                assert time.monotonic() < deadline, "serve did not answer in time"
                time.sleep(2)
        assert len(predictions) == 3 and all(0 <= p["score"] <= 1 for p in predictions)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
            os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    return output


def test_the_ui_shows_the_run_its_dataset_and_metrics(server: Server) -> None:
    """Headless Chromium (Debian's package) renders the run page of the tuned model."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed: apt-get install -y chromium (.ci/run does)")
    from mlflow.tracking import MlflowClient

    os.environ.update(MLFLOW_TRACKING_USERNAME=ANA, MLFLOW_TRACKING_PASSWORD=PASSWORDS[ANA])
    try:
        client = MlflowClient(tracking_uri=server.url)
        experiment = client.get_experiment_by_name(MODEL)
        assert experiment is not None, "run test_a_team_trains_... first (same module)"
        parent = client.search_runs(
            [experiment.experiment_id], "tags.mlflow.parentRunId IS NULL", max_results=1
        )[0]
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    # The account goes in an Authorization header set through the DevTools protocol: a URL
    # with credentials loads the page, but the app's own fetch() calls then refuse to run.
    token = base64.b64encode(f"{ANA}:{PASSWORDS[ANA]}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    runs = f"{server.url}/#/experiments/{experiment.experiment_id}/runs"
    # The runs table: the run and its Dataset column (the inputs' names and digest).
    wanted = [parent.info.run_name, "simulated_leads-train", "simulated_leads-test"]
    text = rendered_text(chromium, runs, headers, wanted)
    assert all(w in text for w in wanted), text[-3000:]
    # The run page: its description (task, data, headline metrics) and its metrics.
    wanted = [parent.info.run_name, "lead_scoring on simulated_leads", "test_roc_auc"]
    text = rendered_text(chromium, f"{runs}/{parent.info.run_id}", headers, wanted)
    assert all(w in text for w in wanted), text[-3000:]


def rendered_text(
    chromium: str, url: str, headers: dict[str, str], wanted: list[str], limit: float = 180
) -> str:
    """The page's visible text once it shows every `wanted` string (or at `limit` seconds),
    driving headless Chromium over --remote-debugging-pipe (fd 3 in, fd 4 out: no extra deps)."""
    import fcntl

    to_chrome, from_chrome = os.pipe(), os.pipe()
    # High numbers first, so the dup2 onto 3 and 4 in the child never overwrites the other.
    ends = [fcntl.fcntl(fd, fcntl.F_DUPFD, 20) for fd in (to_chrome[0], from_chrome[1])]

    def plumb() -> None:
        os.dup2(ends[0], 3)
        os.dup2(ends[1], 4)

    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--remote-debugging-pipe", "--window-size=1920,1200",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = subprocess.Popen(
            [chromium, *flags, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=plumb, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        for fd in (*ends, to_chrome[0], from_chrome[1]):
            os.close(fd)
        writer, reader = os.fdopen(to_chrome[1], "wb"), os.fdopen(from_chrome[0], "rb")
        counter, buffer = [0], [b""]

        def call(method: str, params: dict, session: str | None = None) -> dict:
            counter[0] += 1
            message = {"id": counter[0], "method": method, "params": params}
            if session:
                message["sessionId"] = session
            writer.write(json.dumps(message).encode() + b"\0")
            writer.flush()
            while True:
                while b"\0" not in buffer[0]:
                    chunk = os.read(reader.fileno(), 65536)
                    assert chunk, "chromium closed its DevTools pipe"
                    buffer[0] += chunk
                line, buffer[0] = buffer[0].split(b"\0", 1)
                answer = json.loads(line)
                if answer.get("id") == counter[0]:
                    assert "error" not in answer, answer
                    return answer.get("result", {})

        text = ""
        try:
            target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = call("Target.attachToTarget", {"targetId": target, "flatten": True})
            sid = session["sessionId"]
            metrics = {"width": 1920, "height": 1200, "deviceScaleFactor": 1, "mobile": False}
            call("Emulation.setDeviceMetricsOverride", metrics, sid)  # a desktop layout
            call("Network.enable", {}, sid)
            call("Network.setExtraHTTPHeaders", {"headers": headers}, sid)
            call("Page.navigate", {"url": url}, sid)
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                time.sleep(2)
                found = call("Runtime.evaluate", {"expression": "document.body.innerText"}, sid)
                text = str(found.get("result", {}).get("value", ""))
                if all(w in text for w in wanted):
                    break
        finally:
            os.killpg(browser.pid, signal.SIGKILL)  # the browser and its renderers, no more
            browser.wait()
            writer.close()
            reader.close()
    return text
