"""An event's ledger claim and completion as one prebuilt Postgres statement each.

The hot path of a worker: :func:`claim_event` reads the inbox row and inserts
its ledger row already claimed, or claims the existing one (``ON CONFLICT DO
UPDATE ... WHERE`` the row is still open), in one round trip; a completed or
dead row comes back unclaimed. :func:`complete_event` marks the ledger row
completed and the inbox row processed in another. Both are Core statements
built once, so executing them compiles nothing. Same outcome as
:class:`tds.queue.QueueService`'s ``ensure_event_item`` + ``mark_processing`` and
``mark_completed`` (SQLite keeps using those).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, literal, select, true, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from tds.db.models import InboxEvent, InboxStatus, LedgerStatus, SyncQueueItem

INBOX: Table = InboxEvent.__table__  # type: ignore[assignment]
LEDGER: Table = SyncQueueItem.__table__  # type: ignore[assignment]
CLAIMABLE = (LedgerStatus.PENDING, LedgerStatus.FAILED, LedgerStatus.PROCESSING)


@dataclass(frozen=True)
class ClaimedEvent:
    """The inbox row's fields processing needs; `item_id` None when not claimed."""

    entity: str
    zoho_id: str
    payload: dict[str, Any]
    correlation_id: str
    item_id: int | None


def _claim_statement() -> Any:
    # set_config in the event's WHERE: the lock wait limit is in place before the
    # INSERT meets (and waits for) a row another worker holds; no extra round trip.
    event = select(INBOX.c.id, INBOX.c.entity, INBOX.c.zoho_id, INBOX.c.organization_id,
                   INBOX.c.payload, INBOX.c.correlation_id).where(
        INBOX.c.id == bindparam("event_id"),
        func.set_config("lock_timeout", bindparam("lock_timeout"), True).is_not(None),
    ).cte("event")
    columns = ["unit_key", "kind", "entity", "organization_id", "inbox_event_id", "payload",
               "correlation_id", "status", "attempts", "max_attempts", "next_retry_at",
               "processing_started_at"]
    values = select(bindparam("unit_key"), bindparam("kind"), event.c.entity,
                    event.c.organization_id, event.c.id,
                    bindparam("empty", {}, type_=LEDGER.c.payload.type),
                    event.c.correlation_id, literal(LedgerStatus.PROCESSING.value),
                    literal(1), bindparam("max_attempts"),
                    bindparam("next_retry_at", type_=LEDGER.c.next_retry_at.type),
                    bindparam("now", type_=LEDGER.c.processing_started_at.type))
    insert = postgresql.insert(LEDGER).from_select(columns, values)
    claim = insert.on_conflict_do_update(
        index_elements=["unit_key"],
        set_={"status": LedgerStatus.PROCESSING.value,
              "processing_started_at": insert.excluded.processing_started_at,
              "attempts": LEDGER.c.attempts + 1},
        where=LEDGER.c.status.in_([status.value for status in CLAIMABLE]),
    ).returning(LEDGER.c.id).cte("claim")
    return select(event.c.entity, event.c.zoho_id, event.c.payload, event.c.correlation_id,
                  claim.c.id).select_from(event.outerjoin(claim, true()))


def _complete_statement() -> Any:
    done = update(LEDGER).where(LEDGER.c.id == bindparam("item_id")).values(
        status=LedgerStatus.COMPLETED.value, processing_completed_at=bindparam("now"),
        error_message=None, next_retry_at=None).returning(LEDGER.c.inbox_event_id).cte("done")
    return update(INBOX).where(INBOX.c.id == bindparam("event_id"),
                               INBOX.c.id == done.c.inbox_event_id).values(
        status=InboxStatus.PROCESSED.value, processed_at=bindparam("now"),
        attempts=INBOX.c.attempts + 1, error=None)


CLAIM = _claim_statement()
COMPLETE = _complete_statement()


def claim_event(session: Session, event_id: int, *, unit_key: str, kind: str,
                max_attempts: int, next_retry_at: datetime, now: datetime,
                lock_timeout: str) -> ClaimedEvent | None:
    """Read inbox event `event_id` and claim its ledger row (created if need be).
    None when there is no such event."""
    row = session.connection().execute(CLAIM, {
        "event_id": event_id, "lock_timeout": lock_timeout, "unit_key": unit_key,
        "kind": kind, "max_attempts": max_attempts, "next_retry_at": next_retry_at,
        "now": now}).first()
    if row is None:
        return None
    entity, zoho_id, payload, correlation_id, item_id = row
    return ClaimedEvent(entity, zoho_id, payload, correlation_id, item_id)


def complete_event(session: Session, event_id: int, item_id: int, now: datetime) -> None:
    """Ledger row `item_id` completed, inbox event `event_id` processed."""
    session.connection().execute(COMPLETE, {"event_id": event_id, "item_id": item_id,
                                            "now": now})
