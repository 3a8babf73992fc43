"""A private, throwaway PostgreSQL cluster for tests (see /work/shared/STACK.md, PostgreSQL).

The Debian package is installed but its service is stopped; a test starts its own cluster in a
temporary folder, on 127.0.0.1 and a free port, with trust authentication, and removes it after.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "postgres"


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    folder: Path

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{SUPERUSER}@{self.host}:{self.port}/{database}"


def find_bin() -> Path | None:
    """The newest installed server's bin folder (/usr/lib/postgresql/<version>/bin)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.split("/")[4]))

    return Path(max(found, key=version)).parent if found else None


def ensure_installed() -> Path:
    """The server's bin folder; installs the Debian package when missing and running as root."""
    found = find_bin()
    if found is not None:
        return found
    if os.geteuid() != 0:
        pytest.skip(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) "
            "and installing it needs root: apt-get install -y postgresql"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"cannot install PostgreSQL ({' '.join(command)}): {done.stderr[-500:]}")
    found = find_bin()
    if found is None:
        pytest.skip("apt-get installed postgresql but no initdb was found")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(command: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        server_log = log.read_text()[-2000:] if log is not None and log.exists() else ""
        raise RuntimeError(f"{what} failed:\n{done.stdout}\n{done.stderr}\n{server_log}")


@contextmanager
def private_cluster(databases: tuple[str, ...] = ()) -> Iterator[Cluster]:
    """initdb + pg_ctl start in a temp folder; CREATE DATABASE each name; stop and remove after."""
    bin_dir = ensure_installed()
    # Not under pytest's tmp_path: that is private to root (0700), and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="growthlab-pg-"))
    data, log = folder / "data", folder / "server.log"
    data.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(folder, SUPERUSER)
        shutil.chown(data, SUPERUSER)
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D", str(data),
                "-U", SUPERUSER,
                "--auth=trust",
                "-E", "UTF8",
                "--locale=C.UTF-8",
            ],
            "initdb",
        )  # fmt: skip
        for attempt in range(3):  # the free port may be taken between the probe and the start
            port = free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
            pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log)]
            try:
                _run([*pg_ctl, "-o", options, "-w", "-t", "60", "start"], "pg_ctl start", log)
            except RuntimeError:
                if attempt == 2:
                    raise
                continue
            started = True
            break
        cluster = Cluster("127.0.0.1", port, folder)
        if databases:
            import psycopg2

            connection = psycopg2.connect(
                host=cluster.host, port=cluster.port, user=SUPERUSER, dbname="postgres"
            )
            try:
                connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
                with connection.cursor() as cursor:
                    for name in databases:
                        cursor.execute(f'CREATE DATABASE "{name}"')
            finally:
                connection.close()
        yield cluster
    finally:
        if started:
            subprocess.run(
                _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(folder, ignore_errors=True)
