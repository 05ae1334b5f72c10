"""``tds_sync_state``: per organization and entity, the incremental cursor and the last
runs of each kind, with the last error. Functions take a `Session`, never commit.

Besides the time of the last good run of each mode (its column), ``details["runs"]``
keeps the last run of each mode as it ended, for the status views:
``{mode: {"started_at", "finished_at" (ISO 8601, UTC), "outcome": "ok" | "failed",
"seen" (records listed), "rows" (rows written), "error" (when failed)}}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tds.db.models import SyncState
from tds.db.write import insert_for

RUN_COLUMNS = {"incremental": "last_incremental_at", "full": "last_full_sync_at",
               "reconcile": "last_reconcile_at"}


def state_of(session: Session, organization_id: str, entity: str) -> SyncState:
    """The state row, created if missing, locked until the transaction ends (concurrent
    creators do not collide; whoever holds it decides alone)."""
    session.execute(insert_for(session)(SyncState)
                    .values(organization_id=organization_id, entity=entity, details={})
                    .on_conflict_do_nothing(index_elements=["organization_id", "entity"]))
    state = session.scalar(select(SyncState).where(
        SyncState.organization_id == organization_id, SyncState.entity == entity)
        .with_for_update().execution_options(populate_existing=True))
    assert state is not None
    return state


def record_run(session: Session, organization_id: str, entity: str, mode: str,
               newest: datetime | None, started_at: datetime, seen: int, calls: int,
               whole_listing: bool, written: int) -> datetime | None:
    """A pass of `mode` that started at `started_at` finished: move the cursor to the
    newest stamp it saw, note the run (`seen` records, `written` rows), what it cost in
    calls and (when it listed everything) how many records Zoho has; the cursor after
    it."""
    state = state_of(session, organization_id, entity)
    if newest is not None and (state.cursor is None or newest > state.cursor):
        state.cursor = newest
    setattr(state, RUN_COLUMNS[mode], started_at)
    state.last_error = None
    details = {**state.details, f"calls:{mode}": calls,
               "runs": _with_run(state.details, mode, started_at, "ok", seen, written)}
    if whole_listing:
        details["records"] = seen
    state.details = details
    return state.cursor


def states_of(session: Session, organization_id: str) -> dict[str, SyncState]:
    """Every entity's state row for an organization."""
    rows = session.scalars(select(SyncState).where(SyncState.organization_id == organization_id))
    return {row.entity: row for row in rows}


def record_error(session: Session, organization_id: str, entity: str, mode: str,
                 started_at: datetime, error: BaseException, seen: int = 0,
                 written: int = 0) -> None:
    """A pass of `mode` failed (it resumes from its checkpoint later): keep what it said
    and how far it got, for the status views."""
    state = state_of(session, organization_id, entity)
    state.last_error = f"{type(error).__name__}: {error}"[:4000]
    state.details = {**state.details, "runs": _with_run(state.details, mode, started_at,
                                                        "failed", seen, written,
                                                        state.last_error)}


def _with_run(details: dict[str, Any], mode: str, started_at: datetime, outcome: str,
              seen: int, written: int, error: str | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"started_at": started_at.astimezone(UTC).isoformat(),
                           "finished_at": datetime.now(UTC).isoformat(), "outcome": outcome,
                           "seen": seen, "rows": written}
    if error is not None:
        run["error"] = error
    return {**details.get("runs", {}), mode: run}
