"""The sync ledger (`tds_sync_queue`): one row per unit of work.

A row says what is to be done (an inbox event to apply), how it went
(status, attempts, error) and when to try again (`next_retry_at`). Celery
carries the work; the ledger is what survives a lost message: rows whose
`next_retry_at` has passed are re-enqueued by the dispatcher. Methods take
the caller's session and never commit.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import InboxEvent, InboxStatus, LedgerStatus, SyncQueueItem

HEALTH_SQL = "SELECT status, COUNT(*) FROM tds_sync_queue GROUP BY status;"
EVENT_KIND = "event"
BACKOFF_BASE_SECONDS = 2.0
OPEN = (LedgerStatus.PENDING, LedgerStatus.FAILED)


def event_unit_key(inbox_event_id: int) -> str:
    return f"event:{inbox_event_id}"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DueItem:
    """A ledger row to hand to Celery again."""

    id: int
    entity: str
    inbox_event_id: int | None


class QueueService:
    """The ledger's operations, in the caller's unit of work."""

    def __init__(self, session: Session, *, max_attempts: int = 9,
                 backoff_max_seconds: float = 900.0, grace_seconds: float = 60.0) -> None:
        self.session = session
        self.max_attempts = max_attempts
        self.backoff_max_seconds = backoff_max_seconds
        self.grace = timedelta(seconds=grace_seconds)

    @classmethod
    def from_settings(cls, session: Session, settings: Settings) -> QueueService:
        # One first try plus the task's retries.
        return cls(session, max_attempts=settings.task_max_retries + 1,
                   backoff_max_seconds=settings.retry_backoff_max_seconds,
                   grace_seconds=settings.sweeper_grace_seconds)

    # --- the seed's eight ------------------------------------------------

    def get_pending_items(self, limit: int = 100) -> list[SyncQueueItem]:
        """Pending rows whose time has come, oldest first."""
        now = utcnow()
        return list(self.session.scalars(
            select(SyncQueueItem).where(
                SyncQueueItem.status == LedgerStatus.PENDING,
                or_(SyncQueueItem.next_retry_at.is_(None), SyncQueueItem.next_retry_at <= now))
            .order_by(SyncQueueItem.queued_at, SyncQueueItem.id).limit(limit)))

    def mark_processing(self, item_id: int) -> bool:
        """Claim a row (a conditional UPDATE); False when it is completed, dead or gone.

        On Postgres the claim holds the row lock until the caller's transaction
        ends, so a second worker on the same row waits, then finds it completed;
        a worker that dies releases it with its connection.
        """
        result = self.session.execute(
            update(SyncQueueItem).where(SyncQueueItem.id == item_id,
                                        SyncQueueItem.status.in_(
                                            (*OPEN, LedgerStatus.PROCESSING)))
            .values(status=LedgerStatus.PROCESSING, processing_started_at=utcnow(),
                    attempts=SyncQueueItem.attempts + 1)
            .execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))

    def mark_completed(self, item_id: int) -> None:
        self.session.execute(
            update(SyncQueueItem).where(SyncQueueItem.id == item_id)
            .values(status=LedgerStatus.COMPLETED, processing_completed_at=utcnow(),
                    error_message=None, next_retry_at=None)
            .execution_options(synchronize_session=False))

    def mark_failed(self, item_id: int, error: str, *, retry_in: float | None = None,
                    final: bool = False) -> str | None:
        """Record a failed attempt: `failed` with a next retry time (exponential
        backoff with jitter, or `retry_in` seconds when the caller schedules the retry),
        or `dead` when `final` or the attempts are spent. Returns the new status, or
        None when the row was completed meanwhile (another worker succeeded)."""
        item = self.session.get(SyncQueueItem, item_id, with_for_update=True,
                                populate_existing=True)
        if item is None or item.status == LedgerStatus.COMPLETED:
            return None
        # The failed attempt's claim was rolled back with its transaction; count it here.
        item.attempts += 1
        item.error_message = error[:4000]
        item.processing_completed_at = utcnow()
        if final or item.attempts >= item.max_attempts:
            item.status = LedgerStatus.DEAD
            item.next_retry_at = None
        else:
            item.status = LedgerStatus.FAILED
            delay = retry_in if retry_in is not None else self.backoff(item.attempts)
            # Celery retries first; the dispatcher steps in only if that message is lost.
            item.next_retry_at = utcnow() + timedelta(seconds=delay) + self.grace
        return item.status

    def get_retry_items(self, limit: int = 100) -> list[SyncQueueItem]:
        """Failed rows whose next retry time has passed."""
        return list(self.session.scalars(
            select(SyncQueueItem).where(SyncQueueItem.status == LedgerStatus.FAILED,
                                        SyncQueueItem.next_retry_at <= utcnow())
            .order_by(SyncQueueItem.next_retry_at).limit(limit)))

    def get_queue_stats(self) -> dict[str, int]:
        """Rows per status (the seed's health SQL, as written)."""
        counts = {status.value: 0 for status in LedgerStatus}
        for status, count in self.session.execute(text(HEALTH_SQL)):
            counts[str(status)] = int(count)
        return counts

    def cleanup_old_items(self, older_than_days: int) -> int:
        """Delete completed rows finished more than `older_than_days` ago (dead rows stay
        until someone requeues or inspects them). Returns rows deleted."""
        cutoff = utcnow() - timedelta(days=older_than_days)
        result = self.session.execute(delete(SyncQueueItem).where(
            SyncQueueItem.status == LedgerStatus.COMPLETED,
            SyncQueueItem.processing_completed_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    def requeue_failed_item(self, item_id: int) -> bool:
        """Give a dead or failed row a fresh start now; the dispatcher enqueues it."""
        item = self.session.get(SyncQueueItem, item_id, with_for_update=True,
                                populate_existing=True)
        if item is None or item.status not in (LedgerStatus.DEAD, LedgerStatus.FAILED):
            return False
        self._reset(item)
        return True

    # --- events and dispatch ------------------------------------------------

    def ensure_event_item(self, event: InboxEvent) -> int:
        """The ledger row of an inbox event, created pending if it does not exist."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values: dict[str, Any] = {
            "unit_key": event_unit_key(event.id), "kind": EVENT_KIND, "entity": event.entity,
            "organization_id": event.organization_id, "inbox_event_id": event.id,
            "payload": {}, "correlation_id": event.correlation_id,
            "status": LedgerStatus.PENDING, "attempts": 0, "max_attempts": self.max_attempts,
            # Celery has the message; the dispatcher re-sends only if it is lost.
            "next_retry_at": utcnow() + self.grace,
        }
        self.session.execute(insert(SyncQueueItem).values(values)
                             .on_conflict_do_nothing(index_elements=["unit_key"]))
        found = self.session.scalar(select(SyncQueueItem.id).where(
            SyncQueueItem.unit_key == event_unit_key(event.id)))
        assert found is not None
        return found

    def requeue(self, items: Sequence[SyncQueueItem]) -> int:
        """Reset rows (any status) to pending now, and their inbox events to queued."""
        for item in items:
            self._reset(item)
        return len(items)

    def _reset(self, item: SyncQueueItem) -> None:
        item.status = LedgerStatus.PENDING
        item.attempts = 0
        item.error_message = None
        item.next_retry_at = utcnow()
        item.processing_started_at = item.processing_completed_at = None
        if item.inbox_event_id is not None:
            self.session.execute(update(InboxEvent).where(InboxEvent.id == item.inbox_event_id)
                                 .values(status=InboxStatus.QUEUED, error=None))

    def dead_items(self, limit: int = 100) -> list[SyncQueueItem]:
        return list(self.session.scalars(
            select(SyncQueueItem).where(SyncQueueItem.status == LedgerStatus.DEAD)
            .order_by(SyncQueueItem.id).limit(limit)))

    def adopt_orphaned_events(self, limit: int = 500) -> int:
        """Give a ledger row to inbox events queued longer than the grace period with
        none (their Celery message was lost before any worker saw it)."""
        cutoff = utcnow() - self.grace
        orphans = self.session.scalars(
            select(InboxEvent).outerjoin(SyncQueueItem,
                                         SyncQueueItem.inbox_event_id == InboxEvent.id)
            .where(InboxEvent.status == InboxStatus.QUEUED, SyncQueueItem.id.is_(None),
                   func.coalesce(InboxEvent.queued_at, InboxEvent.received_at) < cutoff)
            .order_by(InboxEvent.id).limit(limit)).all()
        for event in orphans:
            self.ensure_event_item(event)
        if orphans:
            self.session.execute(update(SyncQueueItem).where(
                SyncQueueItem.inbox_event_id.in_([event.id for event in orphans]),
                SyncQueueItem.status == LedgerStatus.PENDING).values(next_retry_at=utcnow()))
        return len(orphans)

    def take_due(self, limit: int = 500) -> list[DueItem]:
        """Pending or failed rows whose retry time has passed, each leased for the grace
        period so the next dispatch does not send it again while it waits in the broker.
        Rows a worker holds right now are skipped."""
        now = utcnow()
        query = (select(SyncQueueItem).where(
            SyncQueueItem.kind == EVENT_KIND, SyncQueueItem.status.in_(OPEN),
            or_(SyncQueueItem.next_retry_at <= now,
                and_(SyncQueueItem.next_retry_at.is_(None),
                     SyncQueueItem.queued_at < now - self.grace)))
            .order_by(SyncQueueItem.next_retry_at, SyncQueueItem.id).limit(limit)
            .with_for_update(skip_locked=True))
        due = list(self.session.scalars(query))
        for item in due:
            item.next_retry_at = now + self.grace
        return [DueItem(item.id, item.entity, item.inbox_event_id) for item in due]

    def backoff(self, attempts: int) -> float:
        """Seconds before retry number `attempts`: exponential, capped, full jitter."""
        ceiling = min(self.backoff_max_seconds, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy
