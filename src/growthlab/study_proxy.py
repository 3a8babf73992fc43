"""Optuna's gRPC storage proxy, started by `make server`: tuning workers reach the studies
through it with `tuner.storage=grpc://HOST:PORT` and need no database password at all.

    python -m growthlab.study_proxy --host H --port P      (what `start` runs, detached)

The proxy alone holds the database's credentials (the least-privilege `optuna` role, its
password in the 0600 pgpass file libpq reads). It has no authentication of its own: whoever
reaches its port can read and write every study (never the MLflow runs, models or artifacts),
so it listens on loopback unless told otherwise (README, security model).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

from growthlab.errors import UserError
from growthlab.processes import alive, stop_group

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
