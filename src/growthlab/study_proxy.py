"""Optuna's gRPC storage proxy, started by `make server`: tuning workers reach the studies
through it with `tuner.storage=grpc://HOST:PORT` and need no database password at all.

    python -m growthlab.study_proxy --host H --port P      (what `start` runs, detached)

The proxy alone holds the database's credentials (the least-privilege `optuna` role, its
password in the 0600 pgpass file libpq reads). It has no authentication of its own: whoever
reaches its port can read and write every study (never the MLflow runs, models or artifacts),
so it listens on loopback unless told otherwise (README, security model). Optuna keeps no
heartbeats through it: `beating` and `Pulse` tell a killed worker's trial from a live one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from growthlab.errors import UserError
from growthlab.processes import alive, loopback, stop_group

URL_ENV = "GROWTHLAB_STUDIES_DB"  # the database URL reaches the proxy here, not on its command line
SCHEME = "grpc://"
READY_SECONDS = 60


def address(storage: str) -> tuple[str, int]:
    """(host, port) of a `grpc://host:port` tuner.storage; a readable refusal otherwise."""
    host, _, port = storage.removeprefix(SCHEME).rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise UserError(
            f"tuner.storage={storage!r}: write grpc://HOST:PORT (make server prints it)"
        )
    return host.strip("[]"), int(port)


def client(storage: str, wait: float = 10) -> object:
    """An Optuna storage that talks to the proxy (refused in one line when nothing answers)."""
    import optuna

    host, port = address(storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        proxy = optuna.storages.GrpcStorageProxy(host=host, port=port)
    try:
        proxy.wait_server_ready(timeout=wait)
    except ConnectionError:
        proxy.close()
        raise UserError(
            f"no study proxy answers on {storage}: start it with make server "
            "(or reach the server's port, e.g. ssh -L PORT:127.0.0.1:PORT server)"
        ) from None
    return proxy


BEAT_ATTR = "beat"  # a counter a trial's process raises while it runs (the proxy has no heartbeat)


@contextmanager
def beating(trial: Any, seconds: float) -> Iterator[None]:
    """Raise the trial's beat counter every `seconds` while the body runs: another machine
    tells a live trial from a killed one by whether the counter moves (no clock compared)."""
    stop = threading.Event()
    trial.set_user_attr(BEAT_ATTR, 0)  # from now on this trial is judged by its beat

    def beat() -> None:
        count = 0
        while not stop.wait(seconds):
            count += 1
            with suppress(Exception):  # a missed beat must not kill the trial
                trial.set_user_attr(BEAT_ATTR, count)

    thread = threading.Thread(target=beat, name="growthlab-beat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class Pulse:
    """What this process has seen of other trials' beat counters, and since when."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[Any, float]] = {}

    def still(self, trial_id: int, beat: Any, grace: float) -> bool:
        """True once the counter has not moved for `grace` seconds of this process's clock."""
        now = time.monotonic()
        last, since = self.seen.get(trial_id, (None, now))
        if last != beat:
            self.seen[trial_id] = (beat, now)
            return False
        self.seen[trial_id] = (last, since)
        return now - since > grace


def launch(
    host: str, port: int, url: str, pgpass: str | None, state: Path, info: Path
) -> dict[str, Any]:
    """make server's part: warn off loopback, start (or keep) the proxy with no secret but
    libpq's password file; what server.json records of it."""
    if not loopback(host):
        print(
            f"growthlab: warning: STUDIES_HOST={host} is reachable from other machines, and "
            "the study proxy has no accounts: anyone who reaches it can read and change every "
            "study (prefer loopback and ssh -L)",
            file=sys.stderr,
        )
    env = {**os.environ, **({"PGPASSFILE": pgpass} if pgpass else {})}
    before = json.loads(info.read_text()) if info.exists() else {}
    pid = start(host, port, url, env, state)
    kept = pid == before.get("studies_pid") and "studies" in before  # up since the last start
    return {"studies_pid": pid, "studies": before["studies"] if kept else f"{SCHEME}{host}:{port}"}


def start(host: str, port: int, url: str, env: dict[str, str], state: Path) -> int:
    """The proxy in a session of its own (a pid file beside the server's); its pid.

    Kept when already running: restarting the tracking server leaves studies reachable.
    """
    pid_file, log_file = state / "studies.pid", state / "studies.log"
    if pid_file.exists() and alive(int(pid_file.read_text())):
        return int(pid_file.read_text())
    log_file.touch(mode=0o600, exist_ok=True)
    command = [sys.executable, "-m", "growthlab.study_proxy", "--host", host, "--port", str(port)]
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command, env={**env, URL_ENV: url}, stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, start_new_session=True, cwd=state,
        )  # fmt: skip
    pid_file.write_text(str(process.pid))
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            code = process.returncode
            raise UserError(f"the study proxy exited with code {code}; see {log_file}")
        try:
            client(f"{SCHEME}{reachable}:{port}", wait=1).close()  # type: ignore[attr-defined]
            return process.pid
        except UserError:
            continue
    raise UserError(f"the study proxy did not answer on port {port}; see {log_file}")


def stop(state: Path) -> str:
    """End the proxy's process group (the one `start` created)."""
    pid_file = state / "studies.pid"
    if not pid_file.exists():
        return ""
    pid = int(pid_file.read_text())
    pid_file.unlink()
    return f"stopped the study proxy (pid {pid})" if stop_group(pid) else ""


def main(argv: list[str] | None = None) -> None:
    """Serve the studies of the database named by GROWTHLAB_STUDIES_DB until terminated."""
    import optuna

    parser = argparse.ArgumentParser(prog="python -m growthlab.study_proxy")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=13000)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # get_storage, not RDBStorage: its in-process cache of finished trials is what keeps
        # the proxy fast (Optuna's docs). It also creates the tables, once, before any worker.
        storage = optuna.storages.get_storage(os.environ.pop(URL_ENV))
        optuna.storages.run_grpc_proxy_server(storage, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
