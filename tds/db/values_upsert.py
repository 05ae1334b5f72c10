"""The guarded upsert of a page of rows on Postgres as one statement whose
only parameter is the page as a JSON array, unpacked by ``jsonb_to_recordset``.

SQLAlchemy's executemany sends this ON CONFLICT statement row by row (it does
not qualify for "insertmanyvalues"), a round trip and a plan per row; a
multi-row VALUES statement has every value adapted and quoted by the driver.
Here the statement is compiled once per table and column set, and the page
travels as one JSON text (one C-encoder ``json.dumps``; the documents are
nested, not serialized twice), after the columns' own bind processors (UTC
times and the like), so the stored values are what SQLAlchemy would store.

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
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import TypeEngine

from tds.db.upsert import CONFLICT_COLUMNS, newer_or_same

Encoder = Callable[[Any], Any]


@dataclass(frozen=True)
class _Prepared:
    sql: str  # one %(page)s parameter: the rows as a JSON array
    encoders: tuple[tuple[str, Encoder], ...]  # columns whose values JSON cannot take as they are


def _recordset(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    types = ", ".join(f"{dialect.identifier_preparer.quote(name)} "
                      f"{table.c[name].type.compile(dialect)}" for name in columns)
    return f"jsonb_to_recordset(CAST(%(page)s AS JSONB)) AS page({types})"


@cache
def _prepared(table: Table, columns: tuple[str, ...], dialect: Dialect,
              skip_unchanged: bool) -> _Prepared:
    # The FROM is a stand-in, replaced by the typed recordset once compiled.
    names: list[ColumnClause[Any]] = [column(name) for name in columns]
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
    sql = text.replace("placeholder()", _recordset(table, columns, dialect))
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
                skip_unchanged: bool = False) -> int:
    """Upsert `rows` (all with the same keys, one row per key) in one statement,
    unless the stored version is newer (or, with `skip_unchanged`, the same version
    of a row not soft-deleted). Returns the rows written."""
    if not rows:
        return 0
    connection = session.connection()
    prepared = _prepared(table, tuple(rows[0]), connection.dialect, skip_unchanged)
    values: Sequence[Mapping[str, Any]] = rows
    if prepared.encoders:
        values = []
        for row in rows:
            converted = dict(row)
            for name, encode in prepared.encoders:
                value = converted[name]
                if value is not None:  # often: deleted_at, blank amounts
                    converted[name] = encode(value)
            values.append(converted)
    # The rows come from decoded JSON and mapping, never circular: skipping the check
    # makes the encoder about a fifth faster on a page of nested documents.
    page = json.dumps(values, default=_scalar, separators=(",", ":"), check_circular=False)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(prepared.sql, {"page": page})
        return int(cursor.rowcount)
    finally:
        cursor.close()
