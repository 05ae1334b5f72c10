"""Thin Celery tasks: each reaches its process's context and calls one `tds` function.

One `tds.<entity>.apply_event(event_id)` per registered entity, on the
entity's queue, `tds.orders.create` on the orders queue, plus the maintenance
tasks. Retries follow the one retry policy (:mod:`tds.retry`), not Celery's
autoretry: an event's failure is recorded on its ledger row, which says whether
it is tried again (and when) or is `dead`, for `tds queue requeue`; a sync pass
and an order are ledger rows as well (a pass resumes from its checkpoint).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from tds import events, orders, passes
from tds.entities import ENTITIES, MAINTENANCE_QUEUE, ORDERS_QUEUE, Entity, entity_named
from tds.inbox import ProcessorService, publish_all
from tds.ledger import ORDER_KIND, DueItem, Failure, QueueService
from workers import names
from workers.app import context

log = logging.getLogger("tds.workers")
# The retry policy decides when work is dead; Celery's own count never cuts it short.
TASK_OPTIONS: dict[str, Any] = {"bind": True, "ignore_result": True, "max_retries": None}
DISPATCH_BATCH = 500  # ledger rows leased and published at once


def _retry_or_park(task: Task, error: Exception, failure: Failure | None) -> str | None:
    """Carry out what the ledger recorded for a failed try: retried after its countdown
    (raises Celery's Retry), parked for a limit (its status: the dispatcher sends it when
    due), or None when it is dead or done (the caller raises the error)."""
    if failure is not None and failure.resume_in is not None:
        return failure.status
    if failure is not None and failure.retry_in is not None:
        raise task.retry(exc=error, countdown=failure.retry_in) from error
    return None


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
            if (parked := _retry_or_park(self, error, failure)) is None:
                raise
            return parked

    return apply_event


EVENT_TASKS = {entity.name: _event_task(entity) for entity in ENTITIES}


def _run_pass(task: Task, item_id: int) -> int:
    """Run pass `item_id` from its checkpoint; a failure is recorded by the ledger's
    policy: retried after a countdown, parked for a limit, or dead."""
    ctx = context(task.app)
    try:
        report = passes.run_pass(ctx.database, ctx.zoho, ctx.settings, item_id,
                                 claimant=task.request.hostname)
    except Exception as error:
        with ctx.database.session() as session:
            failure = passes.queue_for(session, ctx.settings).record_failure(item_id, error)
        if _retry_or_park(task, error, failure) is None:
            raise
        return 0  # parked for a limit
    return report.written if report is not None else 0


@shared_task(name=names.SYNC, **TASK_OPTIONS)
def sync(self: Task, entity: str, mode: str = "incremental") -> int:
    """Open a pass of `entity` in `mode` (or join the open one) and run it; rows written."""
    ctx = context(self.app)
    with ctx.database.session() as session:
        item_id, _ = passes.open_pass(session, ctx.settings, entity_named(entity).name, mode)
    return _run_pass(self, item_id)


@shared_task(name=names.RUN_OPEN_SYNC, **TASK_OPTIONS)
def run_pass(self: Task, item_id: int) -> int:
    """Run open pass `item_id` from its checkpoint (the dispatcher's resend)."""
    return _run_pass(self, item_id)


@shared_task(name=names.CREATE_ORDER, **TASK_OPTIONS)
def create_order(self: Task, item_id: int) -> str:
    """Create the consumer order of ledger row `item_id` in Zoho unless it is there;
    the order's state after it."""
    ctx = context(self.app)
    try:
        return orders.send_order(ctx.database, ctx.zoho, ctx.settings, item_id,
                                 claimant=self.request.hostname)
    except Exception as error:
        with ctx.database.session() as session:
            failure = orders.record_order_failure(session, ctx.settings, item_id, error)
        if (parked := _retry_or_park(self, error, failure)) is None:
            raise
        return parked


@shared_task(name=names.TICK, **TASK_OPTIONS)
def tick(self: Task) -> int:
    """Open the passes the schedule's plan says are due and send them; how many."""
    ctx = context(self.app)
    quota = ctx.zoho.budget.day_quota()
    with ctx.database.session() as session:
        opened = passes.open_due(session, ctx.settings,
                                 quota.limit if quota.from_zoho else None)
    for item_id in opened:
        ctx.publisher(names.RUN_OPEN_SYNC, [item_id], MAINTENANCE_QUEUE)
    return len(opened)


@shared_task(name=names.SWEEP_INBOX, **TASK_OPTIONS)
def sweep_inbox(self: Task) -> int:
    """Publish inbox events left `received` past the grace period; returns how many."""
    ctx = context(self.app)
    return ProcessorService(ctx.settings).sweep(ctx.database, ctx.publisher)


def _declare_queues(celery: Any) -> None:
    # Declared afresh, not from kombu's cache: after a broker restart or a Redis flush
    # the queue bindings are gone and every publish would go nowhere.
    with celery.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in celery.amqp.queues.values():
            queue(channel).declare()


@shared_task(name=names.DISPATCH_DUE, **TASK_OPTIONS)
def dispatch_due(self: Task) -> int:
    """Publish ledger work (events, passes, orders) whose retry time passed or whose
    message was lost; how many."""
    return dispatch(self.app)


def dispatch(celery: Any) -> int:
    """Publish due ledger work a batch at a time until none is due (or the broker
    refuses); how many were published."""
    ctx = context(celery)
    _declare_queues(celery)
    published = 0
    while True:
        with ctx.database.session() as session:
            due = events.take_due_events(session, ctx.settings, DISPATCH_BATCH)
        if not due:
            break
        publish_all(ctx.publisher, [_message(item) for item in due])
        published += len(due)
        if len(due) < DISPATCH_BATCH:
            break
    if published:
        log.info("dispatched due work", extra={"count": published})
    return published


def _message(item: DueItem) -> tuple[str, list[Any], str]:
    if item.kind == ORDER_KIND:
        return names.CREATE_ORDER, [item.id], ORDERS_QUEUE
    if item.inbox_event_id is not None:
        entity = entity_named(item.entity)
        return entity.event_task, [item.inbox_event_id], entity.queue
    return names.RUN_OPEN_SYNC, [item.id], MAINTENANCE_QUEUE


@shared_task(name=names.CLEANUP, **TASK_OPTIONS)
def cleanup(self: Task) -> int:
    """Delete completed ledger rows older than cleanup_after_days."""
    ctx = context(self.app)
    with ctx.database.session() as session:
        return QueueService.from_settings(session, ctx.settings).cleanup_old_items(
            ctx.settings.cleanup_after_days)
