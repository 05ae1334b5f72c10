"""The one way synced records are written: guarded upserts on Postgres and SQLite.

Every write of an entity row is one ``INSERT … ON CONFLICT (organization_id,
zoho_id) DO UPDATE … WHERE <guard>`` built here. The guard takes the incoming
version unless the stored ``last_modified_time`` is newer, so events that
arrive out of order never roll a record back; with ``skip_unchanged`` it also
leaves alone a live row already stored at the same version (a full pass over
unchanged data writes nothing). Statements are built once per table, column
set and path, so executing one compiles nothing.

:func:`write_rows` picks one of three paths:

- **single row** (an event, on Postgres): the prebuilt statement with the
  row as parameters, one round trip;
- **page** (several rows, on Postgres): one statement whose only parameter is
  the rows as a JSON array unpacked by ``jsonb_to_recordset``. SQLAlchemy's
  executemany would send an ON CONFLICT statement row by row; here the page
  travels as one JSON text after the columns' own bind processors, so stored
  values are what SQLAlchemy would store. When the rows' documents were decoded
  from a :class:`~tds.pages.SourcePage` (a Zoho list answer), the page carries
  each row's position in the answer instead of the document, and Postgres reads
  the document out of the answer's own text (encoding the documents again was
  most of the encoder's time);
- **rows** (SQLite): the prebuilt statement, executemany.

Functions take a `Session` and never commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    and_,
    case,
    column,
    delete,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from tds.db.models import DocumentKind
from tds.pages import SourcePage

CONFLICT_COLUMNS = ("organization_id", "zoho_id")
IN_CHUNK = 1000  # ids per IN (...) list: well under every driver's parameter limit
DOCUMENT = "document"
POSITION = "source_position"  # in a page only: the row's document's index in the source
# The row's own document, else the source's document at the row's position.
_FROM_SOURCE = (f"COALESCE({DOCUMENT}, "
                f"CAST(%(source)s AS JSONB) -> %(list_key)s -> {POSITION})")
Encoder = Callable[[Any], Any]
# Literals, not parameters: the page statement is compiled once and must hold none.
_FULL: ColumnElement[str] = literal_column(f"'{DocumentKind.FULL.value}'")
_SUMMARY: ColumnElement[str] = literal_column(f"'{DocumentKind.SUMMARY.value}'")
T = TypeVar("T")


UpsertInsert = postgresql.Insert | sqlite.Insert


def insert_for(bind: Connection | Engine | Session | Dialect) -> Callable[[Any], UpsertInsert]:
    """The dialect's ``insert`` (both have ON CONFLICT) for a session, connection, engine
    or dialect; it takes a table or a model."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    dialect = bind if isinstance(bind, Dialect) else bind.dialect
    if dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`values` in consecutive slices of at most `size`."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def newer_or_same(stored: ColumnElement[Any], incoming: ColumnElement[Any]) -> ColumnElement[bool]:
    """The guard: take the incoming version unless the stored one is newer.

    A stored row without a version accepts anything; an incoming row
    without a version never replaces a versioned one.
    """
    return or_(stored.is_(None), and_(incoming.is_not(None), incoming >= stored))


def changed(stored: ColumnElement[Any], deleted_at: ColumnElement[Any],
            incoming: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether an incoming version is worth writing over a stored row: not the
    same version of a live row (a rewrite would only move ``synced_at``)."""
    return or_(incoming.is_(None), stored.is_(None), incoming != stored,
               deleted_at.is_not(None))


def newest_per_key(rows: Iterable[Mapping[str, Any]],
                   key: Sequence[str] = CONFLICT_COLUMNS) -> list[dict[str, Any]]:
    """One row per `key` (organization and Zoho id), the newest version of each, in
    key order.

    ON CONFLICT cannot touch the same row twice in one statement (Postgres
    refuses), so every batch is collapsed first. Key order means concurrent
    batches sharing rows lock them in the same order: they wait for each
    other, never deadlock.
    """
    newest: dict[Any, dict[str, Any]] = {}
    key_of = itemgetter(*key)  # C speed: a full page goes through here
    for row in rows:
        row_key = key_of(row)
        kept = newest.get(row_key)
        if kept is None or _version(row) >= _version(kept):
            newest[row_key] = dict(row)
    return [newest[row_key] for row_key in sorted(newest)]


def _version(row: Mapping[str, Any]) -> tuple[bool, float]:
    stamp = row.get("last_modified_time")
    return (stamp is not None, stamp.timestamp() if stamp is not None else 0.0)


@dataclass(frozen=True)
class Target:
    """Where rows go: the table, the columns a row is known by, and the columns whose
    change is news even at an unchanged ``last_modified_time`` (Zoho may move stock
    without moving the stamp)."""

    table: Table
    key: tuple[str, ...] = CONFLICT_COLUMNS
    compared: tuple[str, ...] = ()


def write_rows(session: Session, target: Target | Table, rows: Sequence[Mapping[str, Any]],
               *, skip_unchanged: bool = True, source: SourcePage | None = None) -> int:
    """Upsert `rows` under the version guard; returns the rows written.

    Every row carries the same keys, the key columns and ``last_modified_time``
    among them; within the batch the newest version of a key wins. With
    `skip_unchanged` (bulk passes) a live row stored at the same version is left
    alone; without it (an event or its replay) an equal version is applied again.
    A row whose ``document_kind`` is ``summary`` (a list row) merges its document
    over the stored one and never takes away the detail a fuller one brought.
    `source` is the Zoho answer the rows' documents were decoded from, when they were.
    """
    if not rows:
        return 0
    target = target if isinstance(target, Target) else Target(target)
    batch = newest_per_key(rows, target.key)
    connection = session.connection()
    columns = tuple(batch[0])
    if connection.dialect.name != "postgresql":
        statement = _row_statement(target, columns, connection.dialect, skip_unchanged)
        return int(connection.execute(statement, batch).rowcount or 0)
    if len(batch) == 1 and source is None:
        statement = _row_statement(target, columns, connection.dialect, skip_unchanged)
        return int(connection.execute(statement, batch[0]).rowcount or 0)
    return _write_page(connection, target, batch, skip_unchanged, source)


def _on_conflict(statement: UpsertInsert, target: Target, columns: Sequence[str],
                 skip_unchanged: bool, dialect: Dialect) -> UpsertInsert:
    """`statement` with the guarded ON CONFLICT update every path shares."""
    table, excluded = target.table, statement.excluded
    updates: dict[str, Any] = {name: excluded[name] for name in columns
                               if name not in target.key and name != "id"}
    if "synced_at" in table.c and "synced_at" not in updates:
        updates["synced_at"] = synced_now(dialect)
    kinds = "document_kind" in updates
    if kinds:
        updates |= _document_updates(target, excluded, dialect)
    where = newer_or_same(table.c.last_modified_time, excluded.last_modified_time)
    if skip_unchanged:
        news = [changed(table.c.last_modified_time, table.c.deleted_at,
                        excluded.last_modified_time),
                *(table.c[name].is_distinct_from(excluded[name]) for name in target.compared)]
        if kinds:  # the full record over a stored summary is news at any version
            news.append(and_(excluded.document_kind == _FULL, table.c.document_kind != _FULL))
        where = and_(where, or_(*news))
    return statement.on_conflict_do_update(index_elements=list(target.key),
                                           set_=updates, where=where)


def _document_updates(target: Target, excluded: Any, dialect: Dialect) -> dict[str, Any]:
    """A summary merges over the stored document (its keys win, the detail stays) and
    keeps the row `full` only when nothing but the summary's own keys changed."""
    table = target.table
    stored = table.c.document
    merged = (stored.op("||")(excluded.document) if dialect.name == "postgresql"
              else func.json_patch(stored, excluded.document))
    summary = excluded.document_kind == _SUMMARY
    still_full = and_(table.c.document_kind == _FULL,
                      table.c.last_modified_time == excluded.last_modified_time,
                      *(table.c[name].is_not_distinct_from(excluded[name])
                        for name in target.compared))
    return {
        "document": case((summary, merged), else_=excluded.document),
        "document_kind": case((and_(summary, not_(still_full)), _SUMMARY), else_=_FULL),
    }


def synced_now(dialect: Dialect) -> ColumnElement[Any]:
    """The moment a row is written, to the microsecond on Postgres and the millisecond on
    SQLite (whose CURRENT_TIMESTAMP has whole seconds: a reconcile compares it with the
    moment it started)."""
    if dialect.name == "postgresql":
        return func.now()
    return func.strftime("%Y-%m-%d %H:%M:%f", "now")


@cache
def _row_statement(target: Target, columns: tuple[str, ...], dialect: Dialect,
                   skip_unchanged: bool) -> UpsertInsert:
    insert = insert_for(dialect)(target.table)
    if "synced_at" in target.table.c and "synced_at" not in columns:
        insert = insert.values(synced_at=synced_now(dialect))
    return _on_conflict(insert, target, columns, skip_unchanged, dialect)


# --- the page path (Postgres) ---------------------------------------------------------


@dataclass(frozen=True)
class _PageStatement:
    # Parameters: %(page)s, the rows as a JSON array; with a source, also %(source)s
    # (the answer's text) and %(list_key)s.
    sql: str
    encoders: tuple[tuple[str, Encoder], ...]  # columns whose values JSON cannot take as they are


@cache
def _page_statement(target: Target, columns: tuple[str, ...], dialect: Dialect,
                    skip_unchanged: bool, with_source: bool) -> _PageStatement:
    # The FROM (and the document from the source) are stand-ins, replaced once compiled.
    names: list[ColumnElement[Any]] = [
        func.source_document() if with_source and name == DOCUMENT else column(name)
        for name in columns]
    rows: Select[Any] = select(*names).select_from(func.placeholder())
    table = target.table
    statement = _on_conflict(postgresql.insert(table).from_select(list(columns), rows,
                                                                  include_defaults=False),
                             target, columns, skip_unchanged, dialect)
    text = str(statement.compile(dialect=dialect))
    if text.count("placeholder()") != 1 or "RETURNING" in text or "%(" in text:
        raise AssertionError(f"unexpected upsert SQL for {table.name}: {text}")
    sql = text.replace("placeholder()", _recordset(table, columns, dialect, with_source))
    if with_source:
        if text.count("source_document()") != 1:
            raise AssertionError(f"unexpected upsert SQL for {table.name}: {text}")
        sql = sql.replace("source_document()", _FROM_SOURCE)
    encoders = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            continue  # nested as it is in the page's JSON
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None or _python_type(column_type) is not str:
            encoders.append((name, _encoder(processor)))
    return _PageStatement(sql, tuple(encoders))


def _recordset(table: Table, columns: tuple[str, ...], dialect: Dialect,
               with_source: bool) -> str:
    types = [f"{dialect.identifier_preparer.quote(name)} {table.c[name].type.compile(dialect)}"
             for name in columns]
    if with_source:
        types.append(f"{POSITION} INTEGER")
    return f"jsonb_to_recordset(CAST(%(page)s AS JSONB)) AS page({', '.join(types)})"


def _python_type(column_type: TypeEngine[Any]) -> type | None:
    try:
        return column_type.python_type
    except NotImplementedError:
        return None


def _encoder(processor: Encoder | None) -> Encoder:
    """For a value not None: the column's bind processor (UTC times and the like), then
    JSON text for what JSON has no type for; cheaper than json's ``default`` hook."""
    def encode(value: Any) -> Any:
        if processor is not None:
            value = processor(value)
        return value if isinstance(value, str | int | float) else _scalar(value)
    return encode


def _scalar(value: Any) -> Any:
    # Decimals as text keep every digit; times and dates as ISO, which Postgres reads.
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _write_page(connection: Connection, target: Target, rows: Sequence[Mapping[str, Any]],
                skip_unchanged: bool, source: SourcePage | None) -> int:
    if DOCUMENT not in rows[0]:
        source = None
    prepared = _page_statement(target, tuple(rows[0]), connection.dialect, skip_unchanged,
                               source is not None)
    positions = (None if source is None else
                 {id(document): index for index, document in enumerate(source)})
    values: Sequence[Mapping[str, Any]] = rows
    if prepared.encoders or positions is not None:
        values = [_converted(row, prepared.encoders, positions) for row in rows]
    # The rows come from decoded JSON and mapping, never circular: skipping the check
    # makes the encoder about a fifth faster on a page of nested documents.
    parameters = {"page": json.dumps(values, default=_scalar, separators=(",", ":"),
                                     check_circular=False)}
    if source is not None:
        parameters |= {"source": source.text, "list_key": source.list_key}
    cursor = connection.connection.cursor()
    try:
        cursor.execute(prepared.sql, parameters)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _converted(row: Mapping[str, Any], encoders: tuple[tuple[str, Encoder], ...],
               positions: dict[int, int] | None) -> dict[str, Any]:
    """`row` as the page carries it: encoded values, and the document's position in
    the source instead of the document when it is one of the source's."""
    converted = dict(row)
    for name, encode in encoders:
        value = converted[name]
        if value is not None:  # often: deleted_at, blank amounts
            converted[name] = encode(value)
    if positions is not None:
        position = positions.get(id(converted[DOCUMENT]))
        converted[POSITION] = position
        if position is not None:
            converted[DOCUMENT] = None
    return converted


# --- soft deletes ---------------------------------------------------------------------


def mark_deleted(session: Session, table: Table, organization_id: str,
                 zoho_ids: Iterable[str], at: datetime | None = None) -> int:
    """Soft-delete rows (set `deleted_at`); rows are never removed. Returns rows changed."""
    moment = at or datetime.now(UTC)
    changed_rows = 0
    for chunk in chunks(sorted(set(zoho_ids))):
        result = session.execute(update(table).where(
            table.c.organization_id == organization_id, table.c.zoho_id.in_(chunk),
            table.c.deleted_at.is_(None)).values(deleted_at=moment))
        changed_rows += int(getattr(result, "rowcount", 0) or 0)
    return changed_rows


def stored_versions(session: Session, table: Table, organization_id: str,
                    zoho_ids: Collection[str]) -> dict[str, tuple[int, datetime | None]]:
    """``{zoho_id: (row id, last_modified_time)}`` of the live rows among `zoho_ids`,
    locked until the transaction ends (children are rewritten under this lock)."""
    found: dict[str, tuple[int, datetime | None]] = {}
    for chunk in chunks(sorted(zoho_ids)):
        query = select(table.c.id, table.c.zoho_id, table.c.last_modified_time).where(
            table.c.organization_id == organization_id, table.c.zoho_id.in_(chunk),
        ).with_for_update()
        for row_id, zoho_id, modified in session.execute(query):
            found[zoho_id] = (row_id, modified)
    return found


def replace_children(session: Session, parent: Table, child: Table, organization_id: str,
                     children: Mapping[str, tuple[datetime | None, Sequence[Mapping[str, Any]]]],
                     parent_key: str) -> int:
    """Replace the child rows (line items, price-list items) of each parent whose stored
    version is the one its children came with: a stale document never rewrites a newer
    record's children. `children` maps a parent's Zoho id to (its
    ``last_modified_time``, its child rows); `parent_key` is the child column holding
    the parent row's id. Returns how many parents were rewritten."""
    if not children:
        return 0
    rewritten = 0
    for zoho_id, (row_id, stored) in stored_versions(session, parent, organization_id,
                                                     children).items():
        version, rows = children[zoho_id]
        if stored != version:
            continue
        session.execute(delete(child).where(child.c[parent_key] == row_id))
        if rows:
            session.execute(insert(child), [{**row, parent_key: row_id} for row in rows])
        rewritten += 1
    return rewritten
