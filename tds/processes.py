"""Names for whoever holds shared work (a ledger claim, a Zoho call slot), and whether
a holder of this host still runs.

A Celery worker holds work under its node name (``celery@host``); any other process
(the CLI, a script) under ``host:pid`` (:func:`this_process`).
"""

from __future__ import annotations

import os
import socket


def this_process() -> str:
    """This process's holder name: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def local_process_gone(holder: str | None) -> bool:
    """True when `holder` names a process of this host (``host:pid``) that no longer
    runs."""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False
