"""Team mode end to end (slow): `make server`'s module starts PostgreSQL, Optuna's study proxy
and MLflow with accounts; one account tunes (two workers, the study through the proxy: no
database password anywhere on the client), promotes and scores; a teammate logs runs into her
experiment but cannot move her model's alias; anonymous requests are refused; and a password
planted in every place a user could put one is written nowhere: server database, artifacts,
outputs, temporary folders (issue 14)."""

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
PLANTED = "TeamPl4ntedS3cret-5k"  # config keys and URIs (as tests/test_secrets.py plants them)
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
    studies = ["--studies-port", str(free_port())]  # not 13000: tests run side by side
    started = module(found.env(None), "growthlab.server", "start", "--port", port, *studies)
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
    for name in ("credentials.json", "pgpass", "basic_auth.ini", "server.log", "studies.log"):
        assert (server.state / name).stat().st_mode & 0o077 == 0, name


def test_a_team_trains_tunes_promotes_and_scores_without_leaking(server: Server) -> None:
    import optuna
    from optuna.trial import TrialState

    creds = server.credentials()
    info = json.loads((server.state / "server.json").read_text())
    # The study through make server's proxy: no database password on this side at all (no
    # PGPASSWORD, no pgpass file), so neither the workers' environment nor their config has one.
    storage = info["studies"]
    assert storage.startswith("grpc://127.0.0.1:")
    # Ana's account inside the tracking URI (user:password@): MLflow's own "View run ... at:"
    # line would print it; ours is masked.
    inside = server.url.replace("http://", f"http://{ANA}:{PASSWORDS[ANA]}@")
    ana = {**server.env(None), "MLFLOW_TRACKING_URI": inside, "MLFLOW_REGISTRY_URI": inside}
    ana.update(GL_TEST_API_TOKEN=PLANTED, PGPASSFILE=str(server.scratch / "no-pgpass"))
    ana.pop("PGPASSWORD", None)
    planted = [
        "+team.api_token=${oc.env:GL_TEST_API_TOKEN}",  # a secret-looking key, from the env
        f"+team.backup='https://ana:{PLANTED}@backup.example/leads'",  # a password in a URI
        f"+team.warehouse='postgresql://svc@db.example/crm?password={PLANTED}'",  # in a query
    ]
    outputs = []

    def growthlab(env: dict[str, str], *args: str, ok: bool = True) -> str:
        done = module(env, "growthlab", "tracking=server", f"store={server.scratch}/x", *args)
        assert (done.returncode == 0) == ok, done.stderr[-3000:]
        outputs.append(done.stdout + done.stderr)
        return done.stdout + done.stderr

    tuned = growthlab(ana, "tuner=tpe", "tuner.n_trials=4", "tuner.n_workers=2",
                      "tuner.progress=false", "task.cv_folds=2", f"tuner.storage={storage}",
                      *SMALL, *planted)  # fmt: skip
    assert f"at: {server.url.replace('http://', f'http://{ANA}:***@')}/#/experiments/" in tuned
    assert "🏃" not in tuned  # MLflow's own line, one per run and trial, is gone
    bob = {**server.env(BOB), "GL_TEST_API_TOKEN": PLANTED}
    refused = growthlab(bob, "command=promote", *planted, ok=False)
    assert "growthlab: error: the tracking server refused account 'bob'" in refused
    assert "Traceback" not in refused
    growthlab(ana, "command=promote", *planted)
    leads = server.scratch / "leads.csv"
    MarketingSimulator(7).leads(200).drop(columns=["converted", "p_convert"]).to_csv(leads)
    target = server.scratch / "scores.csv"
    growthlab(ana, "command=score", f"registry.scoring.input={leads}",
              f"registry.scoring.output={target}", *planted)  # fmt: skip
    assert target.exists()
    outputs.append(served_predictions(ana, leads))

    from mlflow.tracking import MlflowClient

    from growthlab.study_proxy import client

    studies = client(storage)
    study = optuna.load_study(study_name=studies.get_all_studies()[0].study_name, storage=studies)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 4  # exactly the requested trials, by both processes
    assert len({t.user_attrs["pid"] for t in study.trials}) == 2, study.trials
    os.environ.update(MLFLOW_TRACKING_USERNAME=ANA, MLFLOW_TRACKING_PASSWORD=PASSWORDS[ANA])
    try:
        mlflow_client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
        champion = mlflow_client.get_model_version_by_alias(MODEL, "champion")
        experiment = mlflow_client.get_experiment_by_name(MODEL).experiment_id
        runs = mlflow_client.search_runs([experiment])
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    assert champion.version == "1"  # bob's refused promotion changed nothing
    assert "Gate pass" in (champion.description or "")
    assert len(runs) == 1 + 4 and {r.info.status for r in runs} <= {"FINISHED", "FAILED"}

    # The role's password in the Optuna storage URI: a worker joining the (full) study directly.
    direct = f"optuna:{creds['optuna_password']}@127.0.0.1:{info['pg_port']}/optuna"
    growthlab(ana, "command=tune-worker", "tuner=tpe", "tuner.n_trials=4", "task.cv_folds=2",
              f"tuner.storage=postgresql+psycopg2://{direct}", "tuner.progress=false",
              *SMALL, *planted)  # fmt: skip

    secrets = [*PASSWORDS.values(), PLANTED, creds["optuna_password"], creds["postgres_password"]]
    for text in outputs:
        assert not [p for p in secrets if p in text], text[-3000:]
    kept = {server.state / "credentials.json", server.state / "pgpass"}  # 0600, by design
    for folder in (server.state, server.scratch):
        for path in folder.rglob("*"):
            if path.is_file() and path not in kept:
                data = path.read_bytes()
                assert not [p for p in secrets if p.encode() in data], path


def test_a_teammate_logs_runs_into_an_experiment_but_cannot_touch_a_model(server: Server) -> None:
    """make user puts accounts in the team role (EDIT on every experiment): bob logs a run into
    the experiment ana created; registering a version of her model or moving its alias (the
    same right in MLflow's auth) is refused and changes nothing."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    os.environ.update(MLFLOW_TRACKING_USERNAME=BOB, MLFLOW_TRACKING_PASSWORD=PASSWORDS[BOB])
    try:
        bob = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
        experiment = bob.get_experiment_by_name(MODEL)
        assert experiment is not None, "run test_a_team_trains_... first (same module)"
        run = bob.create_run(experiment.experiment_id, run_name="bob-was-here")
        bob.log_metric(run.info.run_id, "test_roc_auc", 0.5)
        bob.set_terminated(run.info.run_id)
        before = bob.get_registered_model(MODEL)
        with pytest.raises(MlflowException, match="403"):
            bob.set_registered_model_alias(MODEL, "champion", before.latest_versions[0].version)
        with pytest.raises(MlflowException, match="403"):
            bob.create_model_version(MODEL, f"runs:/{run.info.run_id}/model", run.info.run_id)
        with pytest.raises(MlflowException, match="403"):
            bob.delete_experiment(experiment.experiment_id)
        after = bob.get_registered_model(MODEL)
        assert bob.get_run(run.info.run_id).data.metrics == {"test_roc_auc": 0.5}
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    assert after.aliases == before.aliases
    assert [v.version for v in after.latest_versions] == [v.version for v in before.latest_versions]


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
        # The tuned run, not the teammate's bare run the test before logged into it.
        parent = next(
            run
            for run in client.search_runs(
                [experiment.experiment_id], "tags.mlflow.parentRunId IS NULL", max_results=50
            )
            if "growthlab.task" in run.data.tags
        )
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
