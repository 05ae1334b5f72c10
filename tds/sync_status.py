"""How syncing stands, for ``GET /consumer/sync/status``: per entity and overall.

Per entity (every registered one): the cursor and its freshness (the age of the
newest ``last_modified_time`` a pass has seen), the last good run of each mode and
the last run of each as it ended (``tds.sync_state``), the open pass, ledger rows
by status, and a health verdict, the first that holds of:

- ``failing``: the last pass failed (it is retried), or ledger rows are dead;
- ``stalled``: open work has not moved for ``TDS_STALLED_AFTER_SECONDS`` (waiting
  for the day's quota counts: nothing moves);
- ``stale``: no pass finished within ``TDS_STALE_AFTER_SECONDS``
  (``TDS_INVENTORY_STALE_AFTER_SECONDS`` for stock and prices), or none ever did;
- ``ok``.

Overall: ledger rows by status (the seed's health SQL), the inbox backlog and its
oldest event's age, dead letters, orders by state, and the Zoho quota left today.
Times are ISO 8601 in UTC, ages in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tds.config import Settings
from tds.db.models import (
    InboxEvent,
    InboxStatus,
    LedgerStatus,
    SalesOrder,
    SyncQueueItem,
    SyncState,
)
from tds.entities import ENTITIES, Entity
from tds.ledger import QueueService
from tds.ledger.service import SYNC_KIND
from tds.passes import OPEN_STATUSES
from tds.sync_state import RUN_COLUMNS, states_of
from tds.zoho.ratelimit import DayQuota

BACKLOG = (InboxStatus.RECEIVED, InboxStatus.QUEUED, InboxStatus.FAILED)
DEAD_SHOWN = 20


def sync_status(session: Session, settings: Settings, quota: DayQuota | None,
                now: datetime | None = None) -> dict[str, Any]:
    """The whole report; `quota` is the rate budget's day (None when its store, Redis,
    could not be read)."""
    now = now or datetime.now(UTC)
    states = states_of(session, settings.zoho_organization_id)
    by_entity: dict[str, dict[str, int]] = defaultdict(dict)
    for entity, status, count in session.execute(
            select(SyncQueueItem.entity, SyncQueueItem.status, func.count())
            .group_by(SyncQueueItem.entity, SyncQueueItem.status)):
        by_entity[entity][status] = count
    passes: dict[str, list[SyncQueueItem]] = defaultdict(list)
    for item in session.scalars(select(SyncQueueItem).where(
            SyncQueueItem.kind == SYNC_KIND, SyncQueueItem.status.in_(OPEN_STATUSES))
            .order_by(SyncQueueItem.id)):
        passes[item.entity].append(item)
    return {
        "organization_id": settings.zoho_organization_id, "generated_at": now,
        "entities": {entity.name: _entity(entity, states.get(entity.name),
                                          by_entity.get(entity.name, {}),
                                          passes.get(entity.name, []), settings, now)
                     for entity in ENTITIES},
        "ledger": QueueService(session).get_queue_stats(),
        "inbox": _inbox(session, now),
        "dead_letters": _dead_letters(session),
        "orders": _counts(session, SalesOrder.state,
                          SalesOrder.organization_id == settings.zoho_organization_id),
        "zoho_budget": None if quota is None else {
            "limit": quota.limit, "used": quota.used,
            "remaining": max(0, quota.limit - quota.used),
            "resets_in_seconds": round(quota.resets_in), "limit_from_zoho": quota.from_zoho},
    }


def _entity(entity: Entity, state: SyncState | None, ledger: dict[str, int],
            open_passes: list[SyncQueueItem], settings: Settings,
            now: datetime) -> dict[str, Any]:
    details = state.details if state else {}
    health, reason = _health(entity, state, ledger, open_passes, settings, now)
    return {
        "cursor": state.cursor if state else None,
        "freshness_seconds": _age(now, state.cursor) if state and state.cursor else None,
        "last_success": {mode: getattr(state, column) if state else None
                         for mode, column in RUN_COLUMNS.items()},
        "runs": details.get("runs", {}),
        "last_error": state.last_error if state else None,
        "open_passes": [{"pass_id": item.id, "mode": item.payload.get("mode"),
                         "status": item.status, "attempts": item.attempts,
                         "queued_at": item.queued_at} for item in open_passes],
        "ledger": ledger, "health": health, "health_reason": reason,
    }


def _health(entity: Entity, state: SyncState | None, ledger: dict[str, int],
            open_passes: list[SyncQueueItem], settings: Settings,
            now: datetime) -> tuple[str, str]:
    if state is not None and state.last_error:
        return "failing", f"The last pass failed (it is retried): {state.last_error[:300]}"
    if dead := ledger.get(LedgerStatus.DEAD, 0):
        return "failing", f"{dead} ledger row(s) are dead: see `tds queue dead`, requeue them."
    lease = timedelta(seconds=settings.pass_lease_seconds)
    for item in open_passes:
        idle = _age(now, _last_moved(item, lease))
        if idle > settings.stalled_after_seconds:
            return "stalled", (f"An open {item.payload.get('mode')} pass ({item.status}) has "
                               f"not moved for {idle:.0f}s: {item.error_message or 'no error'}")
    limit = (settings.inventory_stale_after_seconds if entity.inventory
             else settings.stale_after_seconds)
    runs = [moment for column in RUN_COLUMNS.values()
            if state is not None and (moment := getattr(state, column)) is not None]
    if not runs:
        return "stale", "No pass has finished yet."
    age = _age(now, max(runs))
    if age > limit:
        return "stale", f"No pass finished in the last {limit}s (the last {age:.0f}s ago)."
    return "ok", f"The last pass finished {age:.0f}s ago."


def _last_moved(item: SyncQueueItem, lease: timedelta) -> datetime:
    """When a pass last showed life: queued, claimed, failed, or a page saved (each
    renews its claim for the lease)."""
    moments = [item.queued_at, item.processing_started_at, item.processing_completed_at,
               item.claim_expires_at - lease if item.claim_expires_at else None]
    return max(moment for moment in moments if moment is not None)


def _inbox(session: Session, now: datetime) -> dict[str, Any]:
    backlog, oldest = session.execute(select(func.count(), func.min(InboxEvent.received_at))
                                      .where(InboxEvent.status.in_(BACKLOG))).one()
    return {"backlog": backlog, "oldest_age_seconds": _age(now, oldest) if oldest else None,
            "by_status": _counts(session, InboxEvent.status)}


def _dead_letters(session: Session) -> dict[str, Any]:
    dead = QueueService(session).dead_items(DEAD_SHOWN)
    total = session.scalar(select(func.count()).where(SyncQueueItem.status == LedgerStatus.DEAD))
    return {"count": total or 0, "items": [
        {"ledger_id": item.id, "kind": item.kind, "entity": item.entity,
         "inbox_event_id": item.inbox_event_id, "attempts": item.attempts,
         "error": item.error_message, "failed_at": item.processing_completed_at}
        for item in dead]}


def _counts(session: Session, column: InstrumentedAttribute[str],
            *where: ColumnElement[bool]) -> dict[str, int]:
    """Rows per value of `column`."""
    rows = session.execute(select(column, func.count()).where(*where).group_by(column))
    return {row[0]: row[1] for row in rows}


def _age(now: datetime, moment: datetime) -> float:
    return round(max(0.0, (now - moment).total_seconds()), 1)
