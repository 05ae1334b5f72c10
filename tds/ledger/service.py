"""The sync ledger (`tds_sync_queue`) and :class:`QueueService`, its public face.

A row says what is to be done (an inbox event to apply), how it went
(status, attempts, error) and when to try again (`next_retry_at`). Celery
carries the work; the ledger is what survives a lost message: rows whose
`next_retry_at` has passed are re-enqueued by the dispatcher. Methods take
the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import InboxEvent, InboxStatus, LedgerStatus, SyncQueueItem
from tds.db.write import insert_for
from tds.retry import RetryPolicy, parks, task_policy

HEALTH_SQL = "SELECT status, COUNT(*) FROM tds_sync_queue GROUP BY status;"
EVENT_KIND = "event"
SYNC_KIND = "pass"  # a sync pass (tds.passes)
ORDER_KIND = "order"  # a consumer order's create in Zoho (tds.orders)
DISPATCHED_KINDS = (EVENT_KIND, SYNC_KIND, ORDER_KIND)  # what the dispatcher sends again
ORDER_KEY_PREFIX = f"{ORDER_KIND}:"  # an order's unit key: the prefix and the order's id
OPEN = (LedgerStatus.PENDING, LedgerStatus.FAILED, LedgerStatus.WAITING)


def event_unit_key(inbox_event_id: int) -> str:
    return f"event:{inbox_event_id}"


def order_unit_key(order_id: int) -> str:
    return f"{ORDER_KEY_PREFIX}{order_id}"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Failure:
    """A failed try as recorded: `failed` with the wait before the next try, `waiting`
    for a limit until `resume_in`, or `dead`."""

    status: str
    message: str
    retry_in: float | None
    resume_in: float | None = None


@dataclass(frozen=True)
class DueItem:
    """A ledger row to hand to Celery again: an inbox event's, a sync pass's or an
    order's (`kind`)."""

    id: int
    kind: str
    entity: str
    inbox_event_id: int | None


def claimable(now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    """A row a worker may claim at `now`: pending or failed, waiting no longer, or
    processing under a claim that lapsed."""
    return or_(SyncQueueItem.status.in_((LedgerStatus.PENDING, LedgerStatus.FAILED)),
               and_(SyncQueueItem.status == LedgerStatus.WAITING,
                    SyncQueueItem.next_retry_at <= now),
               and_(SyncQueueItem.status == LedgerStatus.PROCESSING,
                    or_(SyncQueueItem.claim_expires_at.is_(None),
                        SyncQueueItem.claim_expires_at < now)))


class QueueService:
    """The ledger's operations, in the caller's unit of work."""

    def __init__(self, session: Session, *, policy: RetryPolicy | None = None,
                 grace_seconds: float = 60.0, lease_seconds: float = 300.0) -> None:
        self.session = session
        self.policy = policy or RetryPolicy(attempts=9, backoff_cap=900.0)
        self.grace = timedelta(seconds=grace_seconds)
        self.lease = timedelta(seconds=lease_seconds)

    @classmethod
    def from_settings(cls, session: Session, settings: Settings) -> QueueService:
        return cls(session, policy=task_policy(settings),
                   grace_seconds=settings.sweeper_grace_seconds,
                   lease_seconds=settings.claim_lease_seconds)

    @property
    def max_attempts(self) -> int:
        return self.policy.attempts

    # --- the seed's eight ------------------------------------------------

    def get_pending_items(self, limit: int = 100) -> list[SyncQueueItem]:
        """Pending rows whose time has come, oldest first."""
        now = utcnow()
        return list(self.session.scalars(
            select(SyncQueueItem).where(
                SyncQueueItem.status == LedgerStatus.PENDING,
                or_(SyncQueueItem.next_retry_at.is_(None), SyncQueueItem.next_retry_at <= now))
            .order_by(SyncQueueItem.queued_at, SyncQueueItem.id).limit(limit)))

    def mark_processing(self, item_id: int, claimant: str | None = None) -> bool:
        """Claim a row (a conditional UPDATE) for `claimant`, for the lease; False when it
        is completed, dead, gone, or held by another claimant whose lease runs.

        The claim is meant to be committed before the work starts, so no transaction
        stays open across a call to Zoho; a worker that dies leaves its claim to lapse.
        """
        now = utcnow()
        result = self.session.execute(
            update(SyncQueueItem).where(SyncQueueItem.id == item_id, claimable(now))
            .values(status=LedgerStatus.PROCESSING, processing_started_at=now,
                    attempts=SyncQueueItem.attempts + 1, claimed_by=claimant,
                    # The dispatcher leaves the row alone while the claim runs.
                    claim_expires_at=now + self.lease, next_retry_at=now + self.lease)
            .execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))

    def mark_completed(self, item_id: int) -> None:
        self.session.execute(
            update(SyncQueueItem).where(SyncQueueItem.id == item_id)
            .values(status=LedgerStatus.COMPLETED, processing_completed_at=utcnow(),
                    error_message=None, next_retry_at=None, claimed_by=None,
                    claim_expires_at=None)
            .execution_options(synchronize_session=False))

    def mark_failed(self, item_id: int, error: str, *, retry_in: float | None = None,
                    final: bool = False) -> str | None:
        """Record that the claimed attempt failed: `failed` with a next retry time (the
        policy's backoff, or `retry_in` seconds when the caller schedules the retry), or
        `dead` when `final` or the attempts (counted by the claims) are spent. Returns
        the new status, or None when the row was completed meanwhile."""
        item = self.session.get(SyncQueueItem, item_id, with_for_update=True,
                                populate_existing=True)
        if item is None or item.status == LedgerStatus.COMPLETED:
            return None
        item.error_message = error[:4000]
        item.processing_completed_at = utcnow()
        item.claimed_by = item.claim_expires_at = None
        if final or item.attempts >= item.max_attempts:
            item.status = LedgerStatus.DEAD
            item.next_retry_at = None
        else:
            item.status = LedgerStatus.FAILED
            delay = retry_in if retry_in is not None else self.policy.backoff(item.attempts)
            # Celery retries first; the dispatcher steps in only if that message is lost.
            item.next_retry_at = utcnow() + timedelta(seconds=delay) + self.grace
        return item.status

    def park(self, item_id: int, reason: str, resume_in: float) -> str | None:
        """Set a row `waiting` for `resume_in` seconds, for a limit that lifts by itself;
        the claimed try does not count. None when the row was completed meanwhile."""
        item = self.session.get(SyncQueueItem, item_id, with_for_update=True,
                                populate_existing=True)
        if item is None or item.status == LedgerStatus.COMPLETED:
            return None
        item.status = LedgerStatus.WAITING
        item.attempts = max(0, item.attempts - 1)
        item.error_message = reason[:4000]
        item.claimed_by = item.claim_expires_at = None
        item.next_retry_at = utcnow() + timedelta(seconds=resume_in)
        return item.status

    def record_failure(self, item_id: int, error: BaseException) -> Failure | None:
        """Record a failed try as the retry policy says: parked (`waiting`) for a limit
        that lifts by itself, `failed` with the wait before the next try, or `dead`.
        None when the row was completed meanwhile, or does not exist."""
        item = self.session.get(SyncQueueItem, item_id, with_for_update=True,
                                populate_existing=True)
        if item is None:
            return None
        message = f"{type(error).__name__}: {error}"
        resume_in = parks(error)
        if resume_in is not None:
            status = self.park(item_id, message, resume_in)
            return None if status is None else Failure(status, message, None, resume_in)
        retry_in = self.policy.delay(error, item.attempts)
        status = self.mark_failed(item_id, message, retry_in=retry_in, final=retry_in is None)
        if status is None:
            return None
        return Failure(status, message, retry_in if status == LedgerStatus.FAILED else None)

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
        values: dict[str, Any] = {
            "unit_key": event_unit_key(event.id), "kind": EVENT_KIND, "entity": event.entity,
            "organization_id": event.organization_id, "inbox_event_id": event.id,
            "payload": {}, "correlation_id": event.correlation_id,
            "status": LedgerStatus.PENDING, "attempts": 0, "max_attempts": self.max_attempts,
            # Celery has the message; the dispatcher re-sends only if it is lost.
            "next_retry_at": utcnow() + self.grace,
        }
        self.session.execute(insert_for(self.session)(SyncQueueItem).values(values)
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
        item.claimed_by = item.claim_expires_at = None
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

    def claimants(self) -> set[str]:
        """Who holds a claim that has not lapsed: worker names, or ``host:pid``."""
        return set(self.session.scalars(
            select(SyncQueueItem.claimed_by).distinct().where(
                SyncQueueItem.status == LedgerStatus.PROCESSING,
                SyncQueueItem.claimed_by.is_not(None),
                SyncQueueItem.claim_expires_at >= utcnow())))

    def release_claims(self, claimants: Collection[str]) -> int:
        """Give back the claims `claimants` hold (they are known to be gone: a worker
        killed mid-task) so the next dispatch sends their work again now, not when the
        lease lapses; the try they spent stays counted. How many rows were released."""
        if not claimants:
            return 0
        now = utcnow()
        result = self.session.execute(
            update(SyncQueueItem).where(SyncQueueItem.status == LedgerStatus.PROCESSING,
                                        SyncQueueItem.claimed_by.in_(list(claimants)))
            .values(status=LedgerStatus.PENDING, claimed_by=None, claim_expires_at=None,
                    next_retry_at=now, error_message="its worker stopped mid-task")
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0))

    def take_due(self, limit: int = 500) -> list[DueItem]:
        """Pending or failed rows whose retry time has passed, and claims whose lease
        lapsed (their worker died), each leased for the grace period so the next
        dispatch does not send it again while it waits in the broker. Rows a
        transaction holds right now are skipped."""
        now = utcnow()
        open_and_due = and_(SyncQueueItem.status.in_(OPEN), or_(
            SyncQueueItem.next_retry_at <= now,
            and_(SyncQueueItem.next_retry_at.is_(None),
                 SyncQueueItem.queued_at < now - self.grace)))
        lapsed = and_(SyncQueueItem.status == LedgerStatus.PROCESSING,
                      SyncQueueItem.claim_expires_at < now, SyncQueueItem.next_retry_at <= now)
        query = (select(SyncQueueItem).where(
            SyncQueueItem.kind.in_(DISPATCHED_KINDS), or_(open_and_due, lapsed))
            .order_by(SyncQueueItem.next_retry_at, SyncQueueItem.id).limit(limit)
            .with_for_update(skip_locked=True))
        due = list(self.session.scalars(query))
        for item in due:
            item.next_retry_at = now + self.grace
            if item.status == LedgerStatus.WAITING:  # its limit lifted: any worker may take it
                item.status = LedgerStatus.PENDING
        return [DueItem(item.id, item.kind, item.entity, item.inbox_event_id) for item in due]
