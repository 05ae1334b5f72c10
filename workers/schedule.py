"""Celery beat's schedule, built from the settings and the entity registry."""

from __future__ import annotations

from typing import Any

from tds.config import Settings
from tds.entities import MAINTENANCE_QUEUE
from workers import names


def _every(task: str, seconds: int, args: list[Any] | None = None) -> dict[str, Any]:
    # A run not started within its interval is dropped: the next one does the same work.
    return {"task": task, "schedule": float(seconds), "args": args or [],
            "options": {"queue": MAINTENANCE_QUEUE, "expires": float(seconds)}}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The tick that opens the syncs the quota's plan says are due (tds.plan: incremental
    passes, inventory often, and the nightly reconciles), the inbox sweeper, the ledger
    dispatcher and the cleanup."""
    schedule: dict[str, dict[str, Any]] = {}
    schedule["tick"] = _every(names.TICK, settings.tick_seconds)
    schedule["sweep-inbox"] = _every(names.SWEEP_INBOX, settings.sweeper_interval_seconds)
    schedule["dispatch-due"] = _every(names.DISPATCH_DUE, settings.sweeper_interval_seconds)
    schedule["cleanup"] = _every(names.CLEANUP, settings.cleanup_interval_seconds)
    return schedule
