"""Sending a task from a consumer view once its work is stored.

The work's ledger row is due for the dispatcher after the grace period, so a
broker that is down costs a delay, not the work: the failure is logged and the
view answers as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from webhooks_app.extensions import tds_ext

log = logging.getLogger("tds.consumer")


def send(task_name: str, args: list[Any], queue: str) -> bool:
    """Publish `task_name`; False when the broker refused (the dispatcher sends it)."""
    try:
        tds_ext().publisher(task_name, args, queue)
    except Exception as error:  # noqa: BLE001 - any publish failure: the dispatcher sends it.
        log.warning("could not enqueue; the dispatcher will", extra={
            "task": task_name, "task_args": args,
            "error": f"{type(error).__name__}: {str(error)[:200]}"})
        return False
    return True
