"""`make server` / `make server-stop` / `make user`: a team's MLflow tracking server.

    python -m growthlab.server start [--host H] [--port P] [--db URL] [--artifacts DEST]
    python -m growthlab.server stop
    python -m growthlab.server user NAME      (password from GROWTHLAB_USER_PASSWORD or asked)

A private PostgreSQL cluster under the state folder (unless --db names one), with password
authentication, and `mlflow server --app-name basic-auth` on it with proxied artifacts. The
state folder keeps the pid files, the logs and, in 0600 files, the generated credentials
(never printed, never passed on a command line: PostgreSQL's password reaches MLflow through
libpq's PGPASSFILE). `stop` ends exactly the process group `start` created, then the cluster.
Accounts are in server_accounts.py, the study proxy in study_proxy.py.

Over 300 lines: start and stop of the cluster and the server are one lifecycle, read together
(what start creates, stop must end).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from secrets import token_hex, token_urlsafe
from typing import Any

from growthlab import study_proxy
from growthlab.errors import UserError
from growthlab.paths import ROOT
from growthlab.processes import alive, loopback, stop_group

STATE = Path(os.environ.get("GROWTHLAB_SERVER_STATE", ROOT / ".growthlab" / "server"))
PG_USER = "postgres"  # the cluster's superuser, and the OS user the server runs as under root
OPTUNA_ROLE = "optuna"  # least privilege: owns the optuna database only
READY_SECONDS = 120


def state_files(state: Path) -> dict[str, Path]:
    return {
        "credentials": state / "credentials.json",  # 0600: admin, flask and database secrets
        "pgpass": state / "pgpass",  # 0600: libpq reads the database password here
        "auth_ini": state / "basic_auth.ini",  # 0600: MLflow's auth app config
        "pid": state / "server.pid",
        "info": state / "server.json",  # url, ports, what to stop
        "log": state / "server.log",
        "pg": state / "pg",
    }


def private_file(path: Path, text: str) -> None:
    """Write a file only its owner can read (created 0600 before anything is written)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


def credentials(state: Path) -> dict[str, str]:
    """Generated once, kept in a 0600 file: the admin and database passwords, the Flask key."""
    path = state_files(state)["credentials"]
    if path.exists():
        return dict(json.loads(path.read_text()))
    found = {
        "admin_username": "admin",
        "admin_password": token_urlsafe(18),
        "flask_secret_key": token_hex(32),
        "postgres_password": token_urlsafe(18),
        "optuna_password": token_urlsafe(18),
    }
    private_file(path, json.dumps(found, indent=1))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- PostgreSQL -------------------------------------------------------------------------------


def pg_bin() -> Path:
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise UserError(
            "PostgreSQL is not installed: apt-get install -y postgresql, or give DB=postgresql://..."
        )
    return Path(found[-1]).parent


def as_owner(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", PG_USER, "--", *command] if os.geteuid() == 0 else command


def start_cluster(state: Path, creds: dict[str, str]) -> int:
    """The private cluster (created on first start, password auth on 127.0.0.1); its port."""
    files, bin_dir = state_files(state), pg_bin()
    data = files["pg"] / "data"
    info = json.loads(files["info"].read_text()) if files["info"].exists() else {}
    port = int(info.get("pg_port") or free_port())
    fresh = not data.exists()
    if fresh:
        data.mkdir(parents=True, mode=0o700)
        pwfile = files["pg"] / "pw"
        private_file(pwfile, creds["postgres_password"])
        if os.geteuid() == 0:
            for path in (files["pg"], data, pwfile):
                shutil.chown(path, PG_USER)
        init = [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "-E", "UTF8"]
        init += ["--auth=scram-sha-256", f"--pwfile={pwfile}", "--locale=C.UTF-8"]
        done = subprocess.run(as_owner(init), capture_output=True, text=True)
        pwfile.unlink()
        if done.returncode != 0:
            raise UserError(f"initdb failed: {done.stderr.strip().splitlines()[-1:]}")
    status = [str(bin_dir / "pg_ctl"), "-D", str(data), "status"]
    if not fresh and subprocess.run(as_owner(status), capture_output=True).returncode == 0:
        return port  # still up: only the tracking server is being restarted
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {files['pg']}"
    log = files["pg"] / "postgres.log"
    command = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w"]
    done = subprocess.run(as_owner([*command, "start"]), capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"PostgreSQL did not start; see {log}")
    if fresh:
        create_databases(port, creds)
    return port


def create_databases(port: int, creds: dict[str, str]) -> None:
    """mlflow (the tracking server's) and optuna (owned by a role that can touch nothing else)."""
    import psycopg2

    connection = psycopg2.connect(
        host="127.0.0.1", port=port, user=PG_USER, password=creds["postgres_password"]
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE mlflow")
        cursor.execute(f"CREATE ROLE {OPTUNA_ROLE} LOGIN PASSWORD %s", (creds["optuna_password"],))
        cursor.execute(f"CREATE DATABASE optuna OWNER {OPTUNA_ROLE}")
        cursor.execute("REVOKE CONNECT ON DATABASE mlflow FROM PUBLIC")
    connection.close()


def stop_cluster(state: Path) -> None:
    data = state_files(state)["pg"] / "data"
    if (data / "postmaster.pid").exists():
        stop = [str(pg_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
        subprocess.run(as_owner(stop), capture_output=True, text=True)


# --- the tracking server ----------------------------------------------------------------------


def start(
    host: str,
    port: int,
    db: str | None,
    artifacts: str | None,
    state: Path = STATE,
    studies: tuple[str, int, str | None] = ("127.0.0.1", 13000, None),
) -> str:
    """PostgreSQL (unless `db`), the study proxy and the MLflow server with auth, detached;
    return its URL. `studies`: the proxy's host, port (0: none) and database URL (with `db`)."""
    files = state_files(state)
    if files["pid"].exists() and alive(int(files["pid"].read_text())):
        raise UserError(f"a server is already running (pid file {files['pid']}): make server-stop")
    state.mkdir(parents=True, exist_ok=True)
    # 0711 under root: the postgres user must reach pg/ inside; nothing else here is readable.
    state.chmod(0o711 if os.geteuid() == 0 and not db else 0o700)
    if not loopback(host):
        print(
            f"growthlab: warning: HOST={host} is reachable from other machines; the server "
            "speaks plain HTTP: put TLS (a reverse proxy) in front of it",
            file=sys.stderr,
        )
    creds = credentials(state)
    info: dict[str, Any] = {"host": host, "port": port}
    env = {**os.environ}
    if db is None:
        info["pg_port"] = start_cluster(state, creds)
        db = f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{info['pg_port']}/mlflow"
        pgpass = "\n".join(
            f"127.0.0.1:{info['pg_port']}:*:{user}:{creds[key]}"
            for user, key in ((PG_USER, "postgres_password"), (OPTUNA_ROLE, "optuna_password"))
        )
        private_file(files["pgpass"], pgpass + "\n")
        env["PGPASSFILE"] = str(files["pgpass"])
        own = f"postgresql+psycopg2://{OPTUNA_ROLE}@127.0.0.1:{info['pg_port']}/optuna"
        studies = (studies[0], studies[1], studies[2] or own)
    if studies[1] and studies[2]:
        info.update(study_proxy.launch(*studies, env.get("PGPASSFILE"), state, files["info"]))
    artifacts = artifacts or str(state / "artifacts")
    if "://" not in artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True, mode=0o700)
    private_file(
        files["auth_ini"],
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{state / 'basic_auth.db'}\n"
        f"admin_username = {creds['admin_username']}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # A PBKDF2 check per request made a small training run take minutes on 2 busy cores;
        # cached for 60 s, a password change reaches this one-worker server at once anyway.
        "auth_cache_ttl_seconds = 60\n",
    )
    env.update(
        {
            "MLFLOW_AUTH_CONFIG_PATH": str(files["auth_ini"]),
            "MLFLOW_AUTH_ADMIN_PASSWORD": creds["admin_password"],
            "MLFLOW_FLASK_SERVER_SECRET_KEY": creds["flask_secret_key"],
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # 2 processes, not 15 (STACK.md)
            "MLFLOW_BACKEND_STORE_URI": db,  # not on the command line: ps shows that to all
        }
    )
    command = [
        str(Path(sys.executable).parent / "mlflow"), "server", "--app-name", "basic-auth",
        "--artifacts-destination", artifacts, "--host", host, "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    log = files["log"].open("ab")
    os.chmod(files["log"], 0o600)
    # A session of its own: closing the shell does not end it; stop ends exactly this group.
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True, cwd=state,
    )  # fmt: skip
    files["pid"].write_text(str(process.pid))
    info["pid"] = process.pid
    files["info"].write_text(json.dumps(info))
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    wait_ready(url, process, files["log"])
    (state / "basic_auth.db").chmod(0o600) if (state / "basic_auth.db").exists() else None
    return url


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"the MLflow server exited with code {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise UserError(f"the MLflow server did not answer on {url} in {READY_SECONDS}s; see {log}")


def stop(state: Path = STATE) -> str:
    """SIGTERM the server's process group (the one `start` created), then stop the cluster."""
    files = state_files(state)
    said = "no server was running"
    if files["pid"].exists():
        pid = int(files["pid"].read_text())
        if stop_group(pid):  # start_new_session: its group id is its pid
            said = f"stopped the MLflow server (pid {pid})"
        files["pid"].unlink()
    proxy = study_proxy.stop(state)
    stop_cluster(state)
    return f"{said}; {proxy}" if proxy else said


def url_of(state: Path = STATE) -> str:
    info = json.loads(state_files(state)["info"].read_text())
    host = "127.0.0.1" if info["host"] in ("0.0.0.0", "::") else info["host"]
    return f"http://{host}:{info['port']}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m growthlab.server")
    commands = parser.add_subparsers(dest="command", required=True)
    begin = commands.add_parser("start")
    begin.add_argument("--host", default="127.0.0.1")
    begin.add_argument("--port", type=int, default=5000)
    # From the environment by default (make server DB=...): a command line is visible to all.
    begin.add_argument("--db", default=os.environ.get("GROWTHLAB_SERVER_DB"))
    begin.add_argument("--artifacts", default=os.environ.get("GROWTHLAB_SERVER_ARTIFACTS"))
    begin.add_argument("--studies-host", default="127.0.0.1")
    begin.add_argument("--studies-port", type=int, default=13000)  # 0: no study proxy
    begin.add_argument("--studies-db", default=os.environ.get("GROWTHLAB_SERVER_STUDIES_DB"))
    commands.add_parser("stop")
    user = commands.add_parser("user")
    user.add_argument("name")
    share = commands.add_parser("grant")
    share.add_argument("name")
    share.add_argument("--experiment", default=None)
    share.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    from growthlab.server_accounts import add_user, grant  # it reads this module's state

    try:
        if args.command == "start":
            studies = (args.studies_host, args.studies_port, args.studies_db or None)
            artifacts = args.artifacts or None
            url = start(args.host, args.port, args.db or None, artifacts, STATE, studies)
            print(f"MLflow server with accounts on {url} (log: {state_files(STATE)['log']})")
            info = json.loads(state_files(STATE)["info"].read_text())
            if "studies" in info:
                print(f"  Optuna studies, no database password needed: "
                      f"tuner.storage={info['studies']}")  # fmt: skip
            print(f"  admin account: {credentials(STATE)['admin_username']}, password in "
                  f"{state_files(STATE)['credentials']} (0600)")  # fmt: skip
            print(f"  then: make user NAME=ana; export MLFLOW_TRACKING_URI={url} "
                  "MLFLOW_TRACKING_USERNAME=ana MLFLOW_TRACKING_PASSWORD=...")  # fmt: skip
        elif args.command == "stop":
            print(stop())
        elif args.command == "grant":
            if not (args.experiment or args.model):
                raise UserError("name what to share: EXPERIMENT=name and/or MODEL=name")
            grant(args.name, args.experiment, args.model)
            print(f"{args.name} may now edit {args.experiment or ''} {args.model or ''}".rstrip())
        else:
            password = os.environ.get("GROWTHLAB_USER_PASSWORD") or getpass.getpass(
                f"password for {args.name}: "
            )
            add_user(args.name, password)
            print(f"created account {args.name!r} on {url_of()}")
    except UserError as exc:
        from growthlab.cli import fail

        fail(str(exc))


if __name__ == "__main__":
    main()
