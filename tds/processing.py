"""An inbox event's life in the ledger: claim, apply, complete, fail, requeue.

The claim, the upsert, the ledger's `completed` and the inbox row's
`processed` are one transaction: a worker killed half way leaves nothing
behind but a pending row, and two workers on one event write it once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import InboxEvent, InboxStatus, SyncQueueItem
from tds.db.session import Database
from tds.entities import spec_for
from tds.event_claim import claim_event, complete_event
from tds.logs import correlated
from tds.queue import EVENT_KIND, DueItem, QueueService, event_unit_key
from tds.sync import ZohoReader, apply_event
from tds.zoho.errors import ZohoAPIError, ZohoRateLimitError

log = logging.getLogger("tds.processing")
LOCK_TIMEOUT = "30s"  # a worker waits this long for another one holding the same event


@dataclass(frozen=True)
class EventOutcome:
    """`completed`, `skipped` (already done or dead) or `missing` (no such inbox row)."""

    status: str
    written: int = 0
    deleted: int = 0


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed without anyone changing anything."""
    if isinstance(error, ZohoRateLimitError):
        return True  # even the daily quota resets
    if isinstance(error, ZohoAPIError):
        return error.retryable
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def requested_wait(error: BaseException, cap: float) -> float | None:
    """Seconds Zoho asked us to wait before retrying (Retry-After, a quota reset)."""
    if isinstance(error, ZohoAPIError) and error.retry_after is not None:
        return min(error.retry_after, cap)
    return None


def process_event(database: Database, client: ZohoReader, settings: Settings,
                  event_id: int) -> EventOutcome:
    """Apply inbox event `event_id` once, under its ledger row."""
    with database.session() as session:
        if database.dialect == "postgresql":
            return _process_claimed(session, client, settings, event_id)
        _limit_lock_wait(session)
        event = session.get(InboxEvent, event_id)
        if event is None:
            log.warning("no such inbox event", extra={"inbox_event_id": event_id})
            return EventOutcome("missing")
        with correlated(event.correlation_id):
            return _apply_claimed(session, client, settings, event)


def _process_claimed(session: Session, client: ZohoReader, settings: Settings,
                     event_id: int) -> EventOutcome:
    # Postgres: three statements and the commit (claim with the inbox read, the
    # upsert, complete with the inbox mark), the same outcome as _apply_claimed.
    queue = QueueService.from_settings(session, settings)
    now = datetime.now(UTC)
    claimed = claim_event(session, event_id, unit_key=event_unit_key(event_id),
                          kind=EVENT_KIND, max_attempts=queue.max_attempts,
                          next_retry_at=now + queue.grace, now=now, lock_timeout=LOCK_TIMEOUT)
    if claimed is None:
        log.warning("no such inbox event", extra={"inbox_event_id": event_id})
        return EventOutcome("missing")
    with correlated(claimed.correlation_id):
        if claimed.item_id is None:
            log.info("event already done", extra={"inbox_event_id": event_id})
            return EventOutcome("skipped")
        result = apply_event(session, client, spec_for(claimed.entity),
                             settings.zoho_organization_id, claimed.payload, claimed.zoho_id)
        complete_event(session, event_id, claimed.item_id, datetime.now(UTC))
        log.info("event applied", extra={"inbox_event_id": event_id, "entity": claimed.entity,
                                         "zoho_id": claimed.zoho_id, "written": result.written,
                                         "deleted": result.deleted})
        return EventOutcome("completed", result.written, result.deleted)


def _apply_claimed(session: Session, client: ZohoReader, settings: Settings,
                   event: InboxEvent) -> EventOutcome:
    queue = QueueService.from_settings(session, settings)
    event_id = event.id
    item_id = queue.ensure_event_item(event)
    if not queue.mark_processing(item_id):
        log.info("event already done", extra={"inbox_event_id": event_id})
        return EventOutcome("skipped")
    result = apply_event(session, client, spec_for(event.entity),
                         settings.zoho_organization_id, event.payload, event.zoho_id)
    queue.mark_completed(item_id)
    event.status = InboxStatus.PROCESSED
    event.processed_at = datetime.now(UTC)
    event.attempts += 1
    event.error = None
    log.info("event applied", extra={"inbox_event_id": event_id, "entity": event.entity,
                                     "zoho_id": event.zoho_id, "written": result.written,
                                     "deleted": result.deleted})
    return EventOutcome("completed", result.written, result.deleted)


def record_event_failure(database: Database, settings: Settings, event_id: int,
                         error: BaseException, *, retry_in: float | None,
                         final: bool) -> str | None:
    """Note a failed attempt on the ledger and inbox rows: `failed` (to be retried in
    about `retry_in` seconds) or `dead`. None when the event was completed meanwhile."""
    message = f"{type(error).__name__}: {error}"
    with database.session() as session:
        event = session.get(InboxEvent, event_id)
        if event is None:
            return None
        with correlated(event.correlation_id):
            queue = QueueService.from_settings(session, settings)
            status = queue.mark_failed(queue.ensure_event_item(event), message,
                                       retry_in=retry_in, final=final)
            if status is None:
                return None
            event.status = InboxStatus.DEAD if status == "dead" else InboxStatus.FAILED
            event.attempts += 1
            event.error = message[:4000]
            log.warning("event %s", status, extra={"inbox_event_id": event_id,
                                                   "error": message[:500]})
            return status


def take_due_events(database: Database, settings: Settings, limit: int = 500) -> list[DueItem]:
    """Ledger rows (and ledger-less queued inbox events) that Celery should get again:
    their retry time passed or their message was lost. Each is leased, not re-sent
    by the next dispatch, for the grace period."""
    with database.session() as session:
        queue = QueueService.from_settings(session, settings)
        queue.adopt_orphaned_events(limit)
        return queue.take_due(limit)


def replay_events(session: Session, settings: Settings, event_ids: Sequence[int]) -> int:
    """Mark inbox events for processing again: their ledger rows become pending now
    (created if need be), so the next dispatch enqueues them. Returns how many."""
    queue = QueueService.from_settings(session, settings)
    events = session.scalars(select(InboxEvent).where(InboxEvent.id.in_(event_ids))).all()
    for event in events:
        queue.ensure_event_item(event)
    items = session.scalars(select(SyncQueueItem).where(
        SyncQueueItem.unit_key.in_([event_unit_key(event.id) for event in events]))).all()
    return queue.requeue(items)


def _limit_lock_wait(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
