"""An inbox event's life after the receiver: claimed, applied, completed or failed.

:func:`process_event` is the whole of a worker's job for one event: claim its
ledger row, fetch from Zoho what the webhook did not carry, write the rows and
complete the claim. A worker killed half way leaves nothing behind but a claim
that lapses, and two workers on one event write it once.
:func:`record_event_failure` notes a failed try, :func:`take_due_events` hands
the dispatcher what must be sent again, and :func:`replay_events` processes
events anew.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db import write
from tds.db.models import DocumentKind, InboxEvent, SyncQueueItem
from tds.db.session import Database, commit_without_flush_wait
from tds.entities import Entity, Resolution, ZohoReader, entity_named
from tds.ledger import (
    DueItem,
    Failure,
    QueueService,
    event_ledger,
    event_unit_key,
)
from tds.logs import correlated
from tds.processes import this_process

log = logging.getLogger("tds.events")


@dataclass(frozen=True)
class EventOutcome:
    """`completed`, `skipped` (already done or dead) or `missing` (no such inbox row)."""

    status: str
    written: int = 0
    deleted: int = 0


def process_event(database: Database, client: ZohoReader, settings: Settings,
                  event_id: int, claimant: str | None = None) -> EventOutcome:
    """Apply inbox event `event_id` once, under its ledger row claimed for `claimant`.

    Three steps, none holding a transaction across a call to Zoho: the claim is
    committed, what the webhook did not carry is fetched, then the rows and the
    completion are written in one unit of work.
    """
    # One connection for both units: a second pooled checkout cost a round trip.
    with database.engine.connect() as connection:
        with database.session(connection) as session:
            # A claim lost in a crash is harmless (the event is dispatched again), so
            # its commit need not wait for the WAL flush.
            commit_without_flush_wait(session)
            claim = event_ledger(session, settings).claim(event_id, claimant or this_process())
        if claim is None:
            log.warning("no such inbox event", extra={"inbox_event_id": event_id})
            return EventOutcome("missing")
        with correlated(claim.correlation_id):
            if claim.item_id is None:
                log.info("event already done or in hand", extra={"inbox_event_id": event_id})
                return EventOutcome("skipped")
            entity = entity_named(claim.entity)
            fetched = fetch_event(client, entity, claim.payload, claim.zoho_id,
                                  deleted=claim.deletes)
            with database.session(connection) as session:
                outcome = write_event(session, entity, settings.zoho_organization_id, fetched)
                event_ledger(session, settings).complete(claim)
            log.info("event applied", extra={
                "inbox_event_id": event_id, "entity": claim.entity, "zoho_id": claim.zoho_id,
                "written": outcome.written, "deleted": outcome.deleted})
            return outcome


@dataclass(frozen=True)
class FetchedEvent:
    """What an event stands for once Zoho was asked: records to write as sent (and
    what kind each is), full records Zoho gave, ids Zoho no longer has."""

    as_sent: Sequence[Mapping[str, Any]]
    kind_sent: DocumentKind
    fetched: Sequence[Mapping[str, Any]]
    missing: Sequence[str]


def fetch_event(client: ZohoReader, entity: Entity, record: Mapping[str, Any],
                zoho_id: str, deleted: bool = False) -> FetchedEvent:
    """A webhook's record as documents to write: as sent when complete enough for our
    columns, else (only an id, a partial or unreadable record, an inventory adjustment
    naming items) fetched from Zoho. A Deleted action is never written as sent: Zoho
    is asked, and only its "does not exist" deletes."""
    resolution = (Resolution(fetch_ids=[zoho_id]) if deleted
                  else entity.resolve_event(record, zoho_id))
    fetched: list[Mapping[str, Any]] = []
    missing: list[str] = []
    for record_id in resolution.fetch_ids:
        document = entity.fetch_record(client, record_id)
        if document is None:
            missing.append(record_id)
        else:
            fetched.append(document)
    return FetchedEvent(resolution.documents, entity.kind_of(record), fetched, missing)


def write_event(session: Session, entity: Entity, organization_id: str,
                event: FetchedEvent) -> EventOutcome:
    """Write a fetched event, guarded by last_modified_time; a record Zoho no longer
    has is soft-deleted."""
    written = entity.write(session, organization_id, event.as_sent, event.kind_sent,
                           strict=True, skip_unchanged=False)
    written += entity.write(session, organization_id, event.fetched, DocumentKind.FULL,
                            strict=True, skip_unchanged=False)
    deleted = write.mark_deleted(session, entity.table, organization_id, event.missing)
    return EventOutcome("completed", written, deleted)


def record_event_failure(session: Session, settings: Settings, event_id: int,
                         error: BaseException) -> Failure | None:
    """Note a failed try of event `event_id` on its ledger and inbox rows: `failed`, to
    be tried again when the retry policy says, or `dead`. None when the event was
    completed meanwhile."""
    correlation_id = session.scalar(select(InboxEvent.correlation_id).where(
        InboxEvent.id == event_id))
    with correlated(correlation_id):
        failure = event_ledger(session, settings).fail(event_id, error)
        if failure is not None:
            log.warning("event %s", failure.status, extra={
                "inbox_event_id": event_id, "error": failure.message[:500],
                "retry_in": failure.retry_in})
        return failure


def take_due_events(session: Session, settings: Settings, limit: int = 500) -> list[DueItem]:
    """Ledger rows (and ledger-less queued inbox events) Celery should get again."""
    return event_ledger(session, settings).due(limit)


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
