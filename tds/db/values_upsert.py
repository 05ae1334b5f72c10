"""The guarded upsert of a page of rows on Postgres as one statement whose
only parameter is the page as a JSON array, unpacked by ``jsonb_to_recordset``.

SQLAlchemy's executemany sends this ON CONFLICT statement row by row (it does
not qualify for "insertmanyvalues"), a round trip and a plan per row; a
multi-row VALUES statement has every value adapted and quoted by the driver.
Here the statement is compiled once per table and column set, and the page
travels as one JSON text (one C-encoder ``json.dumps``; the documents are
nested, not serialized twice), after the columns' own bind processors (UTC
times and the like), so the stored values are what SQLAlchemy would store.

When the rows' documents were decoded from a :class:`~tds.pages.SourcePage`
(a Zoho list answer), the page carries each row's position in the answer
instead of its document, and Postgres reads the document out of the
answer's own text: encoding the documents again was most of the encoder's
time. The text is a literal, so Postgres parses it once per statement.

Same statement and guard as :func:`tds.db.upsert.upsert_records`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, Table, and_, column, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from tds.db.upsert import CONFLICT_COLUMNS, newer_or_same
from tds.pages import SourcePage

Encoder = Callable[[Any], Any]


DOCUMENT = "document"
POSITION = "source_position"  # in the page only: the row's document's index in the source
# The row's own document, else the source's document at the row's position.
_FROM_SOURCE = (f"COALESCE({DOCUMENT}, "
                f"CAST(%(source)s AS JSONB) -> %(list_key)s -> {POSITION})")


@dataclass(frozen=True)
class _Prepared:
    # Parameters: %(page)s, the rows as a JSON array; with a source, also %(source)s
    # (the answer's text) and %(list_key)s.
    sql: str
    encoders: tuple[tuple[str, Encoder], ...]  # columns whose values JSON cannot take as they are


def _recordset(table: Table, columns: tuple[str, ...], dialect: Dialect,
               with_source: bool) -> str:
    types = [f"{dialect.identifier_preparer.quote(name)} {table.c[name].type.compile(dialect)}"
             for name in columns]
    if with_source:
        types.append(f"{POSITION} INTEGER")
    return f"jsonb_to_recordset(CAST(%(page)s AS JSONB)) AS page({', '.join(types)})"


@cache
def _prepared(table: Table, columns: tuple[str, ...], dialect: Dialect,
              skip_unchanged: bool, with_source: bool = False) -> _Prepared:
    # The FROM (and the document from the source) are stand-ins, replaced once compiled.
    names: list[ColumnElement[Any]] = [
        func.source_document() if with_source and name == DOCUMENT else column(name)
        for name in columns]
    source: Select[Any] = select(*names).select_from(func.placeholder())
    statement = postgresql.insert(table).from_select(list(columns), source)
    excluded = statement.excluded
    updates: dict[str, Any] = {name: excluded[name] for name in columns
                               if name not in CONFLICT_COLUMNS and name != "id"}
    if "synced_at" in table.c and "synced_at" not in updates:
        updates["synced_at"] = func.now()
    where = newer_or_same(table.c.last_modified_time, excluded.last_modified_time)
    if skip_unchanged:
        where = and_(where, changed(table.c.last_modified_time, table.c.deleted_at,
                                    excluded.last_modified_time))
    statement = statement.on_conflict_do_update(
        index_elements=list(CONFLICT_COLUMNS), set_=updates, where=where)
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
    return _Prepared(sql, tuple(encoders))


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


def changed(stored: ColumnElement[Any], deleted_at: ColumnElement[Any],
            incoming: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether an incoming version is worth writing over a stored row: not the
    same version of a live row (a rewrite would only move ``synced_at``)."""
    return or_(incoming.is_(None), stored.is_(None), incoming != stored,
               deleted_at.is_not(None))


def _scalar(value: Any) -> Any:
    # Decimals as text keep every digit; times and dates as ISO, which Postgres reads.
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def upsert_page(session: Session, table: Table, rows: Sequence[Mapping[str, Any]],
                skip_unchanged: bool = False, source: SourcePage | None = None) -> int:
    """Upsert `rows` (all with the same keys, one row per key) in one statement,
    unless the stored version is newer (or, with `skip_unchanged`, the same version
    of a row not soft-deleted). Rows whose document is one of `source`'s take it
    from the source's text. Returns the rows written."""
    if not rows:
        return 0
    connection = session.connection()
    if DOCUMENT not in rows[0]:
        source = None
    prepared = _prepared(table, tuple(rows[0]), connection.dialect, skip_unchanged,
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
