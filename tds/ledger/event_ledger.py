"""The ledger as inbox events use it: claim, complete, fail, due. One interface, two ways.

:class:`EventLedger` is what event processing sees: ``claim`` reads the inbox
event and claims its ledger row (created if need be), ``complete`` marks the
row completed and the event processed, ``fail`` records a failed try, and
``due`` hands back events whose retry time came or whose message was lost.
The claim and completion have two implementations with the same outcome:

- :class:`PostgresEventLedger`, the worker's hot path: one prebuilt statement
  each for claim (the inbox read, the ledger insert folded into an
  ``ON CONFLICT DO UPDATE ... WHERE`` the row is still open) and complete
  (ledger and inbox together), so executing them compiles nothing;
- :class:`PortableEventLedger`, on SQLite: the same steps through
  :class:`~tds.ledger.service.QueueService`.

A completed or dead row, or one another worker holds under a running lease,
comes back unclaimed (``item_id`` None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, Table, bindparam, cast, func, literal, select, true, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import (
    CLAIMED_PREFIX,
    DELETED_ACTION,
    ONCE_PREFIX,
    InboxEvent,
    InboxStatus,
    LedgerStatus,
    SyncQueueItem,
)
from tds.ledger.service import (
    EVENT_KIND,
    DueItem,
    Failure,
    QueueService,
    claimable,
    event_unit_key,
)

INBOX: Table = InboxEvent.__table__  # type: ignore[assignment]
LEDGER: Table = SyncQueueItem.__table__  # type: ignore[assignment]
LOCK_TIMEOUT = "30s"  # a worker waits this long for another one holding the same event


@dataclass(frozen=True)
class Claim:
    """The inbox event's fields processing needs; `item_id` None when not claimed."""

    event_id: int
    entity: str
    zoho_id: str
    payload: dict[str, Any]
    correlation_id: str
    action: str | None
    item_id: int | None

    @property
    def deletes(self) -> bool:
        """Whether the sender said the record was deleted (a Deleted workflow rule)."""
        return self.action == DELETED_ACTION


class EventLedger:
    """The ledger as event processing uses it, in the caller's unit of work."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.queue = QueueService.from_settings(session, settings)

    def claim(self, event_id: int, claimant: str) -> Claim | None:
        """Read event `event_id` and claim its ledger row for `claimant` (for the lease);
        None when there is no such event. Meant to be committed at once.

        An event whose body carried no version (``once:`` dedup key) stops
        deduplicating here: a later delivery of the same body may stand for a later
        change, so from its claim on it is a new event."""
        raise NotImplementedError

    def complete(self, claim: Claim) -> None:
        """The claimed ledger row completed, its inbox event processed."""
        raise NotImplementedError

    def fail(self, event_id: int, error: BaseException) -> Failure | None:
        """Note a failed try on the ledger and inbox rows as the retry policy says:
        ``waiting`` for a limit (never dead of it), ``failed`` (tried again after
        `retry_in` seconds) or ``dead``. None when the event was completed meanwhile,
        or does not exist."""
        event = self.session.get(InboxEvent, event_id)
        if event is None:
            return None
        failure = self.queue.record_failure(self.queue.ensure_event_item(event), error)
        if failure is None:
            return None
        event.status = {LedgerStatus.DEAD: InboxStatus.DEAD,
                        LedgerStatus.WAITING: InboxStatus.QUEUED}.get(
            LedgerStatus(failure.status), InboxStatus.FAILED)
        if failure.status != LedgerStatus.WAITING:
            event.attempts += 1
        event.error = failure.message[:4000]
        return failure

    def due(self, limit: int = 500) -> list[DueItem]:
        """Events Celery should get again: their retry time passed or their message
        was lost. Each is leased, not re-sent by the next dispatch, for the grace
        period."""
        self.queue.adopt_orphaned_events(limit)
        return self.queue.take_due(limit)


class PortableEventLedger(EventLedger):
    """Claims through QueueService's ORM statements (SQLite)."""

    def claim(self, event_id: int, claimant: str) -> Claim | None:
        event = self.session.get(InboxEvent, event_id)
        if event is None:
            return None
        item_id = self.queue.ensure_event_item(event)
        claimed = self.queue.mark_processing(item_id, claimant)
        self.session.execute(_FREE_DEDUP_KEY, {"event_id": event_id})
        return Claim(event.id, event.entity, event.zoho_id, event.payload,
                     event.correlation_id, event.action, item_id if claimed else None)

    def complete(self, claim: Claim) -> None:
        assert claim.item_id is not None
        self.queue.mark_completed(claim.item_id)
        self.session.execute(update(InboxEvent).where(InboxEvent.id == claim.event_id).values(
            status=InboxStatus.PROCESSED, processed_at=datetime.now(UTC),
            attempts=InboxEvent.attempts + 1, error=None))


class PostgresEventLedger(EventLedger):
    """Claims in one prebuilt statement each (Postgres)."""

    def claim(self, event_id: int, claimant: str) -> Claim | None:
        now = datetime.now(UTC)
        row = self.session.connection().execute(_CLAIM, {
            "event_id": event_id, "lock_timeout": LOCK_TIMEOUT,
            "unit_key": event_unit_key(event_id), "kind": EVENT_KIND,
            "max_attempts": self.queue.max_attempts, "now": now, "claimant": claimant,
            "expires": now + self.queue.lease}).first()
        if row is None:
            return None
        entity, zoho_id, payload, correlation_id, action, item_id = row
        return Claim(event_id, entity, zoho_id, payload, correlation_id, action, item_id)

    def complete(self, claim: Claim) -> None:
        self.session.connection().execute(_COMPLETE, {
            "event_id": claim.event_id, "item_id": claim.item_id, "now": datetime.now(UTC)})


def event_ledger(session: Session, settings: Settings) -> EventLedger:
    """The event ledger for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return PostgresEventLedger(session, settings)
    return PortableEventLedger(session, settings)


def _claim_statement() -> Any:
    # set_config in the event's WHERE: the lock wait limit is in place before the
    # INSERT meets (and waits for) a row another worker holds; no extra round trip.
    event = select(INBOX.c.id, INBOX.c.entity, INBOX.c.zoho_id, INBOX.c.organization_id,
                   INBOX.c.payload, INBOX.c.correlation_id, INBOX.c.action).where(
        INBOX.c.id == bindparam("event_id"),
        func.set_config("lock_timeout", bindparam("lock_timeout"), True).is_not(None),
    ).cte("event")
    columns = ["unit_key", "kind", "entity", "organization_id", "inbox_event_id", "payload",
               "correlation_id", "status", "attempts", "max_attempts", "next_retry_at",
               "processing_started_at", "claimed_by", "claim_expires_at"]
    values = select(bindparam("unit_key"), bindparam("kind"), event.c.entity,
                    event.c.organization_id, event.c.id,
                    bindparam("empty", {}, type_=LEDGER.c.payload.type),
                    event.c.correlation_id, literal(LedgerStatus.PROCESSING.value),
                    literal(1), bindparam("max_attempts"),
                    bindparam("expires", type_=LEDGER.c.next_retry_at.type),
                    bindparam("now", type_=LEDGER.c.processing_started_at.type),
                    bindparam("claimant", type_=LEDGER.c.claimed_by.type),
                    bindparam("expires", type_=LEDGER.c.claim_expires_at.type))
    insert = postgresql.insert(LEDGER).from_select(columns, values)
    claim = insert.on_conflict_do_update(
        index_elements=["unit_key"],
        set_={"status": LedgerStatus.PROCESSING.value,
              "processing_started_at": insert.excluded.processing_started_at,
              "claimed_by": insert.excluded.claimed_by,
              "claim_expires_at": insert.excluded.claim_expires_at,
              # The dispatcher leaves the row alone while the claim runs.
              "next_retry_at": insert.excluded.claim_expires_at,
              "attempts": LEDGER.c.attempts + 1},
        where=claimable(insert.excluded.processing_started_at),
    ).returning(LEDGER.c.id).cte("claim")
    # Run whatever the outcome (Postgres runs every data-modifying WITH once).
    freed = _FREE_DEDUP_KEY.returning(INBOX.c.id).cte("freed")
    return select(event.c.entity, event.c.zoho_id, event.c.payload, event.c.correlation_id,
                  event.c.action, claim.c.id).select_from(
        event.outerjoin(claim, true()).outerjoin(freed, true()))


def _complete_statement() -> Any:
    done = update(LEDGER).where(LEDGER.c.id == bindparam("item_id")).values(
        status=LedgerStatus.COMPLETED.value, processing_completed_at=bindparam("now"),
        error_message=None, next_retry_at=None, claimed_by=None, claim_expires_at=None,
    ).returning(LEDGER.c.inbox_event_id).cte("done")
    return update(INBOX).where(INBOX.c.id == bindparam("event_id"),
                               INBOX.c.id == done.c.inbox_event_id).values(
        status=InboxStatus.PROCESSED.value, processed_at=bindparam("now"),
        attempts=INBOX.c.attempts + 1, error=None)


# A version-less body's key (``once:…``) becomes the event's own once it is claimed.
_FREE_DEDUP_KEY = update(INBOX).where(
    INBOX.c.id == bindparam("event_id"), INBOX.c.dedup_key.startswith(ONCE_PREFIX),
).values(dedup_key=literal(CLAIMED_PREFIX) + cast(INBOX.c.id, String))
_CLAIM = _claim_statement()
_COMPLETE = _complete_statement()
