"""Thin Celery tasks: each reaches its process's context and calls one `tds` function.

One `tds.<entity>.apply_event(event_id)` per registered entity, on the
entity's queue, plus the maintenance tasks. Retries follow the one retry
policy (:mod:`tds.retry`), not Celery's autoretry: an event's failure is
recorded on its ledger row, which says whether it is tried again (and when)
or is `dead`, for `tds queue requeue`; a sync pass retries on the same
policy counted by Celery's own retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task

from tds import events, sync
from tds.entities import ENTITIES, Entity, entity_named
from tds.inbox import ProcessorService
from tds.ledger import QueueService
from tds.retry import task_policy
from workers import names
from workers.app import context

log = logging.getLogger("tds.workers")
# The retry policy decides when work is dead; Celery's own count never cuts it short.
TASK_OPTIONS: dict[str, Any] = {"bind": True, "ignore_result": True, "max_retries": None}


def _event_task(entity: Entity) -> Task:
    @shared_task(name=entity.event_task, **TASK_OPTIONS)
    def apply_event(self: Task, event_id: int) -> str:
        """Apply one inbox event of this entity (idempotent)."""
        ctx = context(self.app)
        try:
            return events.process_event(ctx.database, ctx.zoho, ctx.settings, event_id,
                                        claimant=self.request.hostname).status
        except Exception as error:
            with ctx.database.session() as session:
                failure = events.record_event_failure(session, ctx.settings, event_id, error)
            if failure is not None and failure.retry_in is not None:
                raise self.retry(exc=error, countdown=failure.retry_in) from error
            raise

    return apply_event


EVENT_TASKS = {entity.name: _event_task(entity) for entity in ENTITIES}


def _entity_pass(task: Task, run: Callable[..., sync.SyncReport], entity: str) -> sync.SyncReport:
    """Run one sync pass over `entity`, retried on the task policy."""
    ctx = context(task.app)
    try:
        return run(ctx.database, ctx.zoho, entity_named(entity), ctx.settings.zoho_organization_id,
                   details=entity in ctx.settings.fetch_details)
    except Exception as error:
        delay = task_policy(ctx.settings).delay(error, task.request.retries + 1)
        if delay is not None:
            raise task.retry(exc=error, countdown=delay) from error
        raise


@shared_task(name=names.SYNC_INCREMENTAL, **TASK_OPTIONS)
def sync_incremental(self: Task, entity: str) -> int:
    """Records of `entity` changed since the stored cursor."""
    return _entity_pass(self, sync.sync_incremental, entity).written


@shared_task(name=names.SYNC_FULL, **TASK_OPTIONS)
def sync_full(self: Task, entity: str) -> int:
    """Every record of `entity`, a page per transaction."""
    return _entity_pass(self, sync.sync_full, entity).written


@shared_task(name=names.RECONCILE, **TASK_OPTIONS)
def reconcile(self: Task, entity: str) -> int:
    """Full pass over `entity` that soft-deletes what Zoho no longer has."""
    return _entity_pass(self, sync.reconcile, entity).deleted


@shared_task(name=names.SWEEP_INBOX, **TASK_OPTIONS)
def sweep_inbox(self: Task) -> int:
    """Publish inbox events left `received` past the grace period; returns how many."""
    ctx = context(self.app)
    with ctx.database.session() as session:
        return ProcessorService(ctx.settings).sweep(session, ctx.publisher)


def _declare_queues(celery: Any) -> None:
    # Declared afresh, not from kombu's cache: after a broker restart or a Redis flush
    # the queue bindings are gone and every publish would go nowhere.
    with celery.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in celery.amqp.queues.values():
            queue(channel).declare()


@shared_task(name=names.DISPATCH_DUE, **TASK_OPTIONS)
def dispatch_due(self: Task) -> int:
    """Publish ledger work whose retry time passed or whose message was lost."""
    ctx = context(self.app)
    _declare_queues(self.app)
    with ctx.database.session() as session:
        due = events.take_due_events(session, ctx.settings)
    for item in due:
        entity = entity_named(item.entity)
        ctx.publisher(entity.event_task, [item.inbox_event_id], entity.queue)
    if due:
        log.info("dispatched due events", extra={"count": len(due)})
    return len(due)


@shared_task(name=names.CLEANUP, **TASK_OPTIONS)
def cleanup(self: Task) -> int:
    """Delete completed ledger rows older than cleanup_after_days."""
    ctx = context(self.app)
    with ctx.database.session() as session:
        return QueueService.from_settings(session, ctx.settings).cleanup_old_items(
            ctx.settings.cleanup_after_days)
