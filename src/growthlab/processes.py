"""Is a process still there? (Runs and trials record their owner to find orphans.)"""

import os
import socket

HOST = socket.gethostname()


def alive(pid: int) -> bool:
    """True while process `pid` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
