"""Thin Celery tasks: each opens the process's database and calls one `tds` function.

One `tds.<entity>.apply_events(event_ids)` per registered entity, on the
entity's queue, plus the maintenance tasks. Each event is applied in its
own transaction. Retries: transient errors only (Zoho 5xx and transport
failures, database disconnects) with exponential backoff and jitter, capped
and counted from the settings; a rate limit waits what Zoho asked instead.
An event task retries only the events that failed. After the last retry
the ledger and inbox rows go `dead`, for `tds queue requeue`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from celery import Task
from sqlalchemy.exc import InterfaceError, OperationalError

from tds import processing, sync
from tds.entities import ENTITIES, MAINTENANCE_QUEUE, EntitySpec, spec_for
from tds.inbox import TASK_BATCH
from tds.queue import QueueService
from tds.zoho import UnifiedZohoClient, ZohoServerError, ZohoTransportError
from workers.app import app, database, settings

log = logging.getLogger("tds.workers")
# Always transient, so Celery's autoretry may take them; the rest is sorted by hand.
AUTORETRY = (ZohoServerError, ZohoTransportError, OperationalError, InterfaceError)
RETRY_OPTIONS: dict[str, Any] = {
    "bind": True,
    "autoretry_for": AUTORETRY,
    "retry_backoff": True,
    "retry_backoff_max": settings().retry_backoff_max_seconds,
    "retry_jitter": True,
    "max_retries": settings().task_max_retries,
}
_clients: dict[str, UnifiedZohoClient] = {}
_creating = threading.Lock()


def zoho() -> UnifiedZohoClient:
    """The worker process's Zoho client (made after the fork, on first use)."""
    if "client" not in _clients:
        with _creating:  # one client (and token cache) for the threads of a process
            if "client" not in _clients:
                _clients["client"] = UnifiedZohoClient(settings(), database())
    return _clients["client"]


def _retry_in(task: Task, error: Exception) -> float:
    """What Zoho asked us to wait, else exponential backoff with jitter (as Celery's)."""
    wait = processing.requested_wait(error, settings().retry_backoff_max_seconds)
    if wait is not None:
        return wait
    ceiling = min(settings().retry_backoff_max_seconds, 2 ** task.request.retries)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy


def _is_final(task: Task, error: Exception) -> bool:
    return not processing.is_transient(error) or task.request.retries >= task.max_retries


def _event_failed(task: Task, error: Exception, event_id: int) -> float | None:
    """Record a failed event on the ledger; seconds until its retry, None if it is done
    for (dead, or completed meanwhile)."""
    final = _is_final(task, error)
    retry_in = _retry_in(task, error)
    status = processing.record_event_failure(database(), settings(), event_id, error,
                                             retry_in=retry_in, final=final)
    return None if final or status is None else retry_in


def _event_task(spec: EntitySpec) -> Task:
    @app.task(name=spec.event_task, queue=spec.queue, **RETRY_OPTIONS)
    def apply_events(self: Task, event_ids: list[int]) -> dict[str, int]:
        """Apply inbox events of this entity, one transaction each (idempotent).

        A failed event does not hold up the others: it is recorded, and the
        task retries with the failed events only. Celery's autoretry covers
        what escapes (the ledger itself unreachable): the whole batch runs
        again, and events already applied are skipped.
        """
        outcomes: Counter[str] = Counter()
        retry: dict[int, float] = {}
        for event_id in event_ids:
            try:
                outcomes[processing.process_event(database(), zoho(), settings(),
                                                  event_id).status] += 1
            except Exception as error:  # noqa: BLE001 - sorted and recorded per event
                retry_in = _event_failed(self, error, event_id)
                if retry_in is None:
                    outcomes["failed"] += 1
                else:
                    retry[event_id] = retry_in
        if retry:
            raise self.retry(args=[list(retry)], countdown=max(retry.values()))
        return dict(outcomes)

    return apply_events


EVENT_TASKS = {spec.name: _event_task(spec) for spec in ENTITIES}


def _entity_pass(task: Task, run: Callable[..., sync.SyncReport], entity: str) -> sync.SyncReport:
    """Run one sync pass over `entity`; failures are sorted for retry like events."""
    try:
        return run(database(), zoho(), spec_for(entity), settings().zoho_organization_id)
    except Exception as error:
        # Autoretry takes the AUTORETRY kinds; other transient ones (rate limits,
        # token waits, dropped connections) are retried here; the rest fail the task.
        if not _is_final(task, error) and not isinstance(error, AUTORETRY):
            raise task.retry(exc=error, countdown=_retry_in(task, error)) from error
        raise


@app.task(name="tds.maintenance.sync_incremental", queue=MAINTENANCE_QUEUE, **RETRY_OPTIONS)
def sync_incremental(self: Task, entity: str) -> int:
    """Records of `entity` changed since the stored cursor."""
    return _entity_pass(self, sync.sync_incremental, entity).written


@app.task(name="tds.maintenance.sync_full", queue=MAINTENANCE_QUEUE, **RETRY_OPTIONS)
def sync_full(self: Task, entity: str) -> int:
    """Every record of `entity`, a page per transaction."""
    return _entity_pass(self, sync.sync_full, entity).written


@app.task(name="tds.maintenance.reconcile", queue=MAINTENANCE_QUEUE, **RETRY_OPTIONS)
def reconcile(self: Task, entity: str) -> int:
    """Full pass over `entity` that soft-deletes what Zoho no longer has."""
    return _entity_pass(self, sync.reconcile, entity).deleted


def _declare_queues() -> None:
    # Declared afresh, not from kombu's cache: after a broker restart or a Redis flush
    # the queue bindings are gone and every publish would go nowhere.
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in app.amqp.queues.values():
            queue(channel).declare()


@app.task(name="tds.maintenance.dispatch_due", queue=MAINTENANCE_QUEUE, **RETRY_OPTIONS)
def dispatch_due(self: Task) -> int:
    """Re-enqueue ledger work whose retry time passed or whose message was lost."""
    _declare_queues()
    due = processing.take_due_events(database(), settings())
    by_entity: dict[str, list[int]] = defaultdict(list)
    for item in due:
        if item.inbox_event_id is not None:  # event rows always have one
            by_entity[item.entity].append(item.inbox_event_id)
    for entity, event_ids in by_entity.items():
        spec = spec_for(entity)
        for start in range(0, len(event_ids), TASK_BATCH):
            app.send_task(spec.event_task, args=[event_ids[start:start + TASK_BATCH]],
                          queue=spec.queue)
    if due:
        log.info("dispatched due events", extra={"count": len(due)})
    return len(due)


@app.task(name="tds.maintenance.cleanup", queue=MAINTENANCE_QUEUE, **RETRY_OPTIONS)
def cleanup(self: Task) -> int:
    """Delete completed ledger rows older than cleanup_after_days."""
    with database().session() as session:
        return QueueService.from_settings(session, settings()).cleanup_old_items(
            settings().cleanup_after_days)
