"""One process at a time creates a local store: MLflow's and Optuna's first use of a fresh
SQLite file runs migrations, and two processes doing it at once crash one of them
("table experiments already exists", "duplicate column name"). A busy timeout cannot help:
the race is in the schema, not in a lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SQLITE = "sqlite:///"


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock beside a SQLite store's file; other stores need none (a server
    or PostgreSQL is created once, by `mlflow db upgrade` or its first user)."""
    if not uri.startswith(SQLITE):
        yield
        return
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock, as before
        yield
        return
    path = Path(uri.removeprefix(SQLITE))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
