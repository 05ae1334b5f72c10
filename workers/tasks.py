"""Thin Celery tasks: each opens the process's database and calls one `tds` function.

One `tds.<entity>.apply_event(event_id)` per registered entity, on the
entity's queue, plus the maintenance tasks. Retries: transient errors only
(Zoho 5xx and transport failures, database disconnects) with exponential
backoff and jitter, capped and counted from the settings; a rate limit
waits what Zoho asked instead. After the last retry the ledger and inbox
rows go `dead`, for `tds queue requeue`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from celery import Task
from sqlalchemy.exc import InterfaceError, OperationalError

from tds import processing, sync
from tds.entities import ENTITIES, MAINTENANCE_QUEUE, EntitySpec, spec_for
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


def _backoff(task: Task) -> float:
    # The ceiling of Celery's own retry_backoff for this retry (the jitter only shortens it).
    return float(min(settings().retry_backoff_max_seconds, 2 ** task.request.retries))


def _on_failure(task: Task, error: Exception, event_id: int | None = None) -> None:
    """Record the failure; retry by hand what autoretry does not take (rate limits,
    token waits, dropped connections); let permanent errors fail the task."""
    transient = processing.is_transient(error)
    final = not transient or task.request.retries >= task.max_retries
    wait = processing.requested_wait(error, settings().retry_backoff_max_seconds)
    if event_id is not None:
        processing.record_event_failure(database(), settings(), event_id, error,
                                        retry_in=wait if wait is not None else _backoff(task),
                                        final=final)
    if transient and not final and not isinstance(error, AUTORETRY):
        raise task.retry(exc=error, countdown=wait if wait is not None else _backoff(task))


def _event_task(spec: EntitySpec) -> Task:
    @app.task(name=spec.event_task, queue=spec.queue, **RETRY_OPTIONS)
    def apply_event(self: Task, event_id: int) -> str:
        """Apply one inbox event of this entity (idempotent)."""
        try:
            return processing.process_event(database(), zoho(), settings(), event_id).status
        except Exception as error:
            _on_failure(self, error, event_id)
            raise

    return apply_event


EVENT_TASKS = {spec.name: _event_task(spec) for spec in ENTITIES}


def _entity_pass(task: Task, run: Callable[..., sync.SyncReport], entity: str) -> sync.SyncReport:
    """Run one sync pass over `entity`; failures are sorted for retry like events."""
    try:
        return run(database(), zoho(), spec_for(entity), settings().zoho_organization_id)
    except Exception as error:
        _on_failure(task, error)
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
    for item in due:
        spec = spec_for(item.entity)
        app.send_task(spec.event_task, args=[item.inbox_event_id], queue=spec.queue)
    if due:
        log.info("dispatched due events", extra={"count": len(due)})
    return len(due)


@app.task(name="tds.maintenance.cleanup", queue=MAINTENANCE_QUEUE, **RETRY_OPTIONS)
def cleanup(self: Task) -> int:
    """Delete completed ledger rows older than cleanup_after_days."""
    with database().session() as session:
        return QueueService.from_settings(session, settings()).cleanup_old_items(
            settings().cleanup_after_days)
