"""Celery beat's schedule, built from the settings and the entity registry."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from tds.config import Settings
from tds.entities import ENTITIES, MAINTENANCE_QUEUE
from workers import names


def _every(task: str, seconds: int, args: list[Any] | None = None) -> dict[str, Any]:
    # A run not started within its interval is dropped: the next one does the same work.
    return {"task": task, "schedule": float(seconds), "args": args or [],
            "options": {"queue": MAINTENANCE_QUEUE, "expires": float(seconds)}}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Incremental syncs (inventory often), the nightly reconcile, the inbox sweeper,
    the ledger dispatcher and the cleanup."""
    schedule: dict[str, dict[str, Any]] = {}
    for entity in ENTITIES:
        interval = (settings.inventory_sync_interval_seconds if entity.inventory
                    else settings.entity_sync_interval_seconds)
        schedule[f"sync-incremental-{entity.name}"] = _every(
            names.SYNC, interval, [entity.name, "incremental"])
        schedule[f"reconcile-{entity.name}"] = {
            "task": names.SYNC, "args": [entity.name, "reconcile"],
            "schedule": crontab(minute=0, hour=settings.reconcile_hour_utc),
            "options": {"queue": MAINTENANCE_QUEUE},
        }
    schedule["sweep-inbox"] = _every(names.SWEEP_INBOX, settings.sweeper_interval_seconds)
    schedule["dispatch-due"] = _every(names.DISPATCH_DUE, settings.sweeper_interval_seconds)
    schedule["cleanup"] = _every(names.CLEANUP, settings.cleanup_interval_seconds)
    return schedule
