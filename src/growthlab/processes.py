"""The signal handler that stops a run cleanly, whether a run or trial's owner still lives,
ending a detached process group, and whether an address is loopback."""

import _thread
import os
import socket
import sys
import threading
from types import CodeType, FrameType

HOST = socket.gethostname()
# Set once SIGTERM or Ctrl-C asked this process to stop: a library that swallows the
# KeyboardInterrupt (XGBoost inside a ctypes callback) must not turn it into a model error.
interrupted = threading.Event()
RETRY_SECONDS = 0.05


def interrupt(signum: int, frame: FrameType | None) -> None:
    """Signal handler: remember the request and unwind like Ctrl-C.

    Not from inside a callback that C code made into Python: ctypes ignores the exception,
    hands C a garbage return value, and XGBoost then loops forever or aborts. The same signal
    is raised again a moment later, when the main thread is back in Python.
    """
    interrupted.set()
    if in_foreign_callback(frame):
        retry = threading.Timer(RETRY_SECONDS, _thread.interrupt_main, args=(signum,))
        retry.daemon = True
        retry.start()
        return
    raise KeyboardInterrupt


def in_foreign_callback(frame: FrameType | None) -> bool:
    """True when `frame` runs, at any depth, inside a Python function that C calls back."""
    callbacks = foreign_callbacks()
    while frame is not None:
        if frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False


def foreign_callbacks() -> set[CodeType]:
    """Loaded functions that C calls through ctypes: XGBoost's data iterator and log hook."""
    xgboost_core = sys.modules.get("xgboost.core")
    if xgboost_core is None:
        return set()
    iterator = xgboost_core.DataIter
    hooks = (iterator._next_wrapper, iterator._reset_wrapper, xgboost_core._log_callback)
    return {hook.__code__ for hook in hooks}


def alive(pid: int) -> bool:
    """True while process `pid` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pid: int, wait: float = 10) -> bool:
    """SIGTERM the process group led by `pid` (started with start_new_session), SIGKILL it if
    still there after `wait` seconds; False when it had already ended."""
    import signal
    import time

    if not alive(pid):
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while not _ended(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not _ended(pid):
        os.killpg(pid, signal.SIGKILL)
        _ended(pid)
    return True


def _ended(pid: int) -> bool:
    """True once `pid` is gone; reaps it when it is this process's own child (else a zombie)."""
    import contextlib

    with contextlib.suppress(ChildProcessError):  # not our child: its parent (or init) reaps it
        os.waitpid(pid, os.WNOHANG)
    return not alive(pid)


def loopback(host: str) -> bool:
    """True when `host` resolves to this machine's loopback (reachable from here only)."""
    import ipaddress

    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False
