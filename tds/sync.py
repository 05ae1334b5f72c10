"""Bringing Zoho's records into our tables in bulk: an incremental pass, a full
pass, and the reconcile that also finds records deleted in Zoho.

A pass commits one page per transaction, so a long sync holds neither memory
nor locks in proportion to the organization. It is given a session factory
(:class:`Database`) because it owns those per-page units of work; the pass's
bookkeeping in ``tds_sync_state`` is one more unit at its end. Where a pass
stands is a :class:`Checkpoint` (its query, fixed at its start, and the next
page): a pass cut short resumes there, not at page 1 (see :mod:`tds.passes`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from tds.db import write
from tds.db.models import DocumentKind
from tds.db.session import Database, commit_without_flush_wait
from tds.entities import Entity, ZohoReader, companions_of
from tds.mapping import format_zoho_time, parse_zoho_time
from tds.prefetch import prefetched, worked_in_order
from tds.sync_state import record_error, record_run, state_of

log = logging.getLogger("tds.sync")
# Pages written at once on Postgres, each in its own transaction on its own
# connection: one page's rows are mapped and encoded while the other's statement
# runs. More would only queue for the GIL.
PAGE_WRITERS = 2
DETAIL_FETCHERS = 4  # full records fetched at once behind a page
MODES = ("incremental", "full", "reconcile")


@dataclass
class Checkpoint:
    """Where a pass stands: the list query it reads (fixed when it started), the next
    page to read, when it started, the newest ``last_modified_time`` it saw, and its
    totals so far (a resumed pass reports the whole pass)."""

    query: dict[str, Any]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    page: int = 1
    newest: datetime | None = None
    totals: dict[str, int] = field(default_factory=dict)  # seen, written, details

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "started_at": self.started_at.isoformat(),
                "page": self.page, "newest": self.newest.isoformat() if self.newest else None,
                "totals": self.totals}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        newest = data.get("newest")
        return cls(dict(data["query"]), datetime.fromisoformat(data["started_at"]),
                   int(data["page"]), datetime.fromisoformat(newest) if newest else None,
                   dict(data.get("totals") or {}))


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
    return _drain(iter_sync(database, client, entity, organization_id, "incremental",
                            details=details))


def sync_full(database: Database, client: ZohoReader, entity: Entity,
              organization_id: str, *, details: bool = False) -> SyncReport:
    """Every record, a page per transaction."""
    return _drain(iter_sync(database, client, entity, organization_id, "full",
                            details=details))


def reconcile(database: Database, client: ZohoReader, entity: Entity,
              organization_id: str, *, details: bool = False) -> SyncReport:
    """A full pass that also soft-deletes rows whose record Zoho no longer has."""
    return _drain(iter_sync(database, client, entity, organization_id, "reconcile",
                            details=details))


def start(database: Database, entity: Entity, organization_id: str, mode: str) -> Checkpoint:
    """A new pass's checkpoint: an incremental pass lists from the stored cursor (a full
    listing the first time, and for entities Zoho cannot filter by modification time)."""
    query = dict(entity.list_params)
    if mode == "incremental" and entity.modified_filter:
        with database.session() as session:
            cursor = state_of(session, organization_id, entity.name).cursor
        if cursor is not None:
            query[entity.modified_field] = format_zoho_time(cursor)
    return Checkpoint(query)


def iter_sync(database: Database, client: ZohoReader, entity: Entity, organization_id: str,
              mode: str, checkpoint: Checkpoint | None = None, *, details: bool = False,
              on_checkpoint: Callable[[Checkpoint], None] | None = None,
              ) -> Iterator[SyncReport]:
    """Run a pass from `checkpoint` (a new one when None), yielding the running report
    after each page (for progress bars) and handing `on_checkpoint` where it stands
    once each page is committed.

    List rows are summaries (``zoho-books-api.md``). With `details`, the rows of a
    page whose stored document is a summary (new, or newer than the full record
    stored) are fetched in full right behind the page, a few at a time under the
    shared rate budget: one call per changed record. A reconcile rewrites every row
    it lists, so what it did not list since it started (kept in the rows, so a resumed
    pass still knows) is what Zoho no longer has, once Zoho confirms each."""
    checkpoint = checkpoint or start(database, entity, organization_id, mode)
    report = SyncReport(entity.name, mode, pages=checkpoint.page - 1,
                        seen=checkpoint.totals.get("seen", 0),
                        written=checkpoint.totals.get("written", 0),
                        details=checkpoint.totals.get("details", 0),
                        started_at=checkpoint.started_at)
    query = {**checkpoint.query, "page": checkpoint.page}
    # The next page is fetched while this one is written (one page ahead).
    pages = prefetched(client.paginated_fetch(entity.listing_path, entity.list_key, query))
    connections = _ThreadConnections(database.engine)
    width = PAGE_WRITERS if database.dialect == "postgresql" else 1  # SQLite has one writer

    def write_page(page: list[dict[str, Any]]) -> tuple[int, int]:
        return _write_page(connections, client, entity, organization_id, page,
                           details=details, listing_all=mode == "reconcile")

    try:
        # The writers stop (closed first) before their connections close.
        with connections, closing(worked_in_order(write_page, pages, width)) as written_pages:
            for page, (written, detailed) in written_pages:
                report.written += written
                report.details += detailed
                report.pages += 1
                report.seen += len(page)
                checkpoint.page += 1
                checkpoint.newest = _newest(entity, page, checkpoint.newest)
                checkpoint.totals = {"seen": report.seen, "written": report.written,
                                     "details": report.details}
                if on_checkpoint is not None:
                    on_checkpoint(checkpoint)
                yield report
        for writer in (entity, *companions_of(entity)):  # the report is the pass's own
            deleted = (_delete_unlisted(database, client, writer, organization_id,
                                        checkpoint.started_at) if mode == "reconcile" else 0)
            with database.session() as session:
                cursor = record_run(session, organization_id, writer.name, mode,
                                    checkpoint.newest, checkpoint.started_at, report.seen,
                                    report.pages + report.details,
                                    whole_listing=entity.modified_field not in checkpoint.query,
                                    written=report.written)
            if writer is entity:
                report.deleted, report.cursor = deleted, cursor
    except Exception as error:
        _note_error(database, organization_id, report, error)
        raise
    finally:
        pages.close()
    log.info("sync finished", extra={"entity": entity.name, "mode": mode, "pages": report.pages,
                                     "seen": report.seen, "written": report.written,
                                     "details": report.details, "deleted": report.deleted})
    yield report


def _write_page(connections: _ThreadConnections, client: ZohoReader, entity: Entity,
                organization_id: str, page: list[dict[str, Any]], *, details: bool,
                listing_all: bool) -> tuple[int, int]:
    """Write one list page (its companions' rows too, and with `details` the full records
    it is due), each in a transaction of its own; (rows written, records fetched in full)."""
    with Session(connections.mine(), expire_on_commit=False) as session, session.begin():
        # A crash may lose the last pages, never part of one. The pass's cursor and run
        # time are recorded afterwards by a durable commit, which puts every page before
        # it on disk; a pass cut short resumes from its checkpoint, which is no later.
        commit_without_flush_wait(session)
        written = entity.write(session, organization_id, page, DocumentKind.SUMMARY,
                               skip_unchanged=not listing_all)
        for companion in companions_of(entity):  # counted as theirs, not the pass's
            companion.write(session, organization_id, page, DocumentKind.SUMMARY,
                            skip_unchanged=not listing_all)
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


def fetch_details(client: ZohoReader, entity: Entity,
                  summaries: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The full records behind `summaries`, fetched a few at a time (the shared budget
    paces them); a record gone since it was listed is left out."""
    with ThreadPoolExecutor(DETAIL_FETCHERS, thread_name_prefix="tds-detail") as pool:
        fetched = list(pool.map(lambda summary: entity.fetch_detail(client, summary),
                                summaries))
    return [document for document in fetched if document is not None]


def _delete_unlisted(database: Database, client: ZohoReader, entity: Entity,
                     organization_id: str, started_at: datetime) -> int:
    """Soft-delete the live records the pass did not list. Records shift between pages
    while a long pass runs, so Zoho confirms each one gone first (code 1002), where it
    has a single GET; one it still has is written, not deleted."""
    table = entity.table
    with database.session() as session:
        unlisted = list(session.scalars(
            select(table.c.zoho_id).where(table.c.organization_id == organization_id,
                                          table.c.deleted_at.is_(None))
            .group_by(table.c.zoho_id).having(func.max(table.c.synced_at) < started_at)))
    alive = [found for zoho_id in unlisted if entity.single_get
             and (found := entity.fetch_record(client, zoho_id)) is not None]
    gone = set(unlisted) - {str(document[entity.id_field]) for document in alive}
    with database.session() as session:
        entity.write(session, organization_id, alive, DocumentKind.FULL)
        return write.mark_deleted(session, table, organization_id, gone)


def _ids(entity: Entity, page: list[dict[str, Any]]) -> list[str]:
    return [str(document[entity.id_field]) for document in page
            if document.get(entity.id_field) not in (None, "")]


def _newest(entity: Entity, page: list[dict[str, Any]],
            newest: datetime | None) -> datetime | None:
    for document in page:
        try:
            stamp = parse_zoho_time(document.get(entity.modified_field))
        except ValueError:
            continue
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
    return newest


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


def _note_error(database: Database, organization_id: str, report: SyncReport,
                error: Exception) -> None:
    try:
        with database.session() as session:
            record_error(session, organization_id, report.entity, report.mode,
                         report.started_at, error, report.seen, report.written)
    except Exception:  # the original error matters more than this bookkeeping
        log.exception("could not record the sync error", extra={"entity": report.entity})
