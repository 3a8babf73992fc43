"""Is a process still there? (Runs and trials record their owner to find orphans.)"""

import os
import socket
import threading

HOST = socket.gethostname()
# Set once SIGTERM or Ctrl-C asked this process to stop: a library that swallows the
# KeyboardInterrupt (XGBoost inside a ctypes callback) must not turn it into a model error.
interrupted = threading.Event()


def interrupt(*_: object) -> None:
    """Signal handler: remember the request and unwind like Ctrl-C."""
    interrupted.set()
    raise KeyboardInterrupt


def alive(pid: int) -> bool:
    """True while process `pid` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
