"""Bringing Zoho's records into our tables in bulk: an incremental pass, a full
pass, and the reconcile that also finds records deleted in Zoho.

A pass commits one page per transaction, so a long sync holds neither memory
nor locks in proportion to the organization. It is given a session factory
(:class:`Database`) because it owns those per-page units of work; the pass's
bookkeeping in ``tds_sync_state`` is one more unit at its end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from tds.db import write
from tds.db.models import DocumentKind, SyncState
from tds.db.session import Database, commit_without_flush_wait
from tds.db.write import insert_for
from tds.entities import Entity, ZohoReader
from tds.mapping import format_zoho_time, parse_zoho_time
from tds.prefetch import prefetched, worked_in_order

log = logging.getLogger("tds.sync")
# Pages written at once on Postgres, each in its own transaction on its own
# connection: one page's rows are mapped and encoded while the other's statement
# runs. More would only queue for the GIL.
PAGE_WRITERS = 2
DETAIL_FETCHERS = 4  # full records fetched at once behind a page
RUN_COLUMNS = {"incremental": "last_incremental_at", "full": "last_full_sync_at",
               "reconcile": "last_reconcile_at"}


@dataclass
class SyncReport:
    """Totals of a sync run; `cursor` is the stored cursor after it."""

    entity: str
    mode: str  # incremental, full, reconcile
    pages: int = 0
    seen: int = 0
    written: int = 0
    details: int = 0  # full records fetched behind the pages
    deleted: int = 0
    cursor: datetime | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def sync_incremental(database: Database, client: ZohoReader, entity: Entity,
                     organization_id: str, *, details: bool = False) -> SyncReport:
    """Records changed since the stored cursor (Zoho's `last_modified_time` filter,
    inclusive, so the boundary record is re-read and skipped as unchanged). Entities
    without the filter, and the first run, get a full pass that skips unchanged rows."""
    params = incremental_params(database, entity, organization_id)
    return _drain(iter_sync(database, client, entity, organization_id, "incremental", params,
                            details=details))


def incremental_params(database: Database, entity: Entity,
                       organization_id: str) -> dict[str, Any] | None:
    """The list query of an incremental pass, or None when it must be a full pass."""
    with database.session() as session:
        cursor = _state(session, organization_id, entity.name).cursor
    if cursor is None or not entity.modified_filter:
        return None
    return {**dict(entity.list_params), entity.modified_field: format_zoho_time(cursor)}


def sync_full(database: Database, client: ZohoReader, entity: Entity,
              organization_id: str, *, details: bool = False) -> SyncReport:
    """Every record, a page per transaction."""
    return _drain(iter_sync(database, client, entity, organization_id, "full",
                            details=details))


def reconcile(database: Database, client: ZohoReader, entity: Entity,
              organization_id: str, *, details: bool = False) -> SyncReport:
    """A full pass that also soft-deletes rows whose record Zoho no longer lists.

    Rows written during the pass (by webhooks) are never taken for missing;
    rows that reappear in Zoho are un-deleted by the pass's upsert.
    """
    return _drain(iter_sync(database, client, entity, organization_id, "reconcile",
                            details=details))


def iter_sync(database: Database, client: ZohoReader, entity: Entity, organization_id: str,
              mode: str, params: Mapping[str, Any] | None = None, *,
              details: bool = False) -> Iterator[SyncReport]:
    """Run a pass, yielding the running report after each page (for progress bars).

    List rows are summaries (``zoho-books-api.md``). With `details`, the rows of a
    page whose stored document is a summary (new, or newer than the full record
    stored) are fetched in full right behind the page, a few at a time under the
    shared rate budget: one call per changed record."""
    report = SyncReport(entity.name, mode)
    query = dict(params) if params is not None else dict(entity.list_params)
    seen_ids: set[str] = set()
    newest: datetime | None = None
    # The next page is fetched while this one is written (one page ahead).
    pages = prefetched(client.paginated_fetch(entity.listing_path, entity.list_key, query))
    connections = _ThreadConnections(database.engine)
    width = PAGE_WRITERS if database.dialect == "postgresql" else 1  # SQLite has one writer

    def write_page(page: list[dict[str, Any]]) -> tuple[int, int]:
        with Session(connections.mine(), expire_on_commit=False) as session, session.begin():
            # A crash may lose the last pages, never part of one. The pass's cursor
            # and run time are recorded afterwards by a durable commit, which puts
            # every page before it on disk; a pass cut short is not recorded and
            # the next one writes those records again.
            commit_without_flush_wait(session)
            written = entity.write(session, organization_id, page, DocumentKind.SUMMARY)
            due = entity.detail_candidates(session, organization_id, _ids(entity, page)) \
                if details else set()
        if not due:
            return written, 0
        full = fetch_details(client, entity, [document for document in page
                                              if str(document.get(entity.id_field)) in due])
        with Session(connections.mine(), expire_on_commit=False) as session, session.begin():
            commit_without_flush_wait(session)
            entity.write(session, organization_id, full, DocumentKind.FULL)
        return written, len(due)

    try:
        # The writers stop (closed first) before their connections close.
        with connections, closing(worked_in_order(write_page, pages, width)) as written_pages:
            for page, (written, detailed) in written_pages:
                report.written += written
                report.details += detailed
                report.pages += 1
                report.seen += len(page)
                for document in page:
                    stamp = _modified(entity, document)
                    if stamp is not None and (newest is None or stamp > newest):
                        newest = stamp
                    if mode == "reconcile" and document.get(entity.id_field):
                        seen_ids.add(str(document[entity.id_field]))
                yield report
        with database.session() as session:
            if mode == "reconcile":
                stale = write.live_ids(session, entity.table, organization_id,
                                       synced_before=report.started_at) - seen_ids
                report.deleted = write.mark_deleted(session, entity.table, organization_id,
                                                    stale)
            report.cursor = _finish(session, organization_id, entity.name, mode, newest,
                                    report.started_at)
    except Exception as error:
        _record_error(database, organization_id, entity.name, error)
        raise
    finally:
        pages.close()
    log.info("sync finished", extra={"entity": entity.name, "mode": mode, "pages": report.pages,
                                     "seen": report.seen, "written": report.written,
                                     "details": report.details, "deleted": report.deleted})
    yield report


def fetch_details(client: ZohoReader, entity: Entity,
                  summaries: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The full records behind `summaries`, fetched a few at a time (the shared budget
    paces them); a record gone since it was listed is left out."""
    with ThreadPoolExecutor(DETAIL_FETCHERS, thread_name_prefix="tds-detail") as pool:
        fetched = list(pool.map(lambda summary: entity.fetch_detail(client, summary),
                                summaries))
    return [document for document in fetched if document is not None]


def _ids(entity: Entity, page: list[dict[str, Any]]) -> list[str]:
    return [str(document[entity.id_field]) for document in page
            if document.get(entity.id_field) not in (None, "")]


class _ThreadConnections:
    """One connection per thread writing pages, for the whole pass (a pooled checkout
    per page costs a pre-ping round trip); closed together when the pass ends."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._lock = threading.Lock()

    def mine(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._engine.connect()
            with self._lock:
                self._opened.append(connection)
        return connection

    def __enter__(self) -> _ThreadConnections:
        return self

    def __exit__(self, *exc: object) -> None:
        for connection in self._opened:
            connection.close()


def _drain(reports: Iterator[SyncReport]) -> SyncReport:
    last: SyncReport | None = None
    for last in reports:  # noqa: B007 - the last report is the total
        pass
    assert last is not None
    return last


def _modified(entity: Entity, document: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_zoho_time(document.get(entity.modified_field))
    except ValueError:
        return None


# --- tds_sync_state --------------------------------------------------------------


def _state(session: Session, organization_id: str, entity: str) -> SyncState:
    """The state row, created if missing (concurrent creators do not collide)."""
    session.execute(insert_for(session)(SyncState)
                    .values(organization_id=organization_id, entity=entity, details={})
                    .on_conflict_do_nothing(index_elements=["organization_id", "entity"]))
    state = session.scalar(select(SyncState).where(
        SyncState.organization_id == organization_id, SyncState.entity == entity)
        .with_for_update().execution_options(populate_existing=True))
    assert state is not None
    return state


def _finish(session: Session, organization_id: str, entity: str, mode: str,
            newest: datetime | None, started_at: datetime) -> datetime | None:
    state = _state(session, organization_id, entity)
    if newest is not None and (state.cursor is None or newest > state.cursor):
        state.cursor = newest
    setattr(state, RUN_COLUMNS[mode], started_at)
    state.last_error = None
    return state.cursor


def _record_error(database: Database, organization_id: str, entity: str,
                  error: Exception) -> None:
    try:
        with database.session() as session:
            _state(session, organization_id, entity).last_error = \
                f"{type(error).__name__}: {error}"[:4000]
    except Exception:  # the original error matters more than this bookkeeping
        log.exception("could not record the sync error", extra={"entity": entity})
