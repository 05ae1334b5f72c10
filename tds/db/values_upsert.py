"""The guarded upsert of a page of rows on Postgres as one multi-row VALUES
statement sent by psycopg2's ``execute_values``.

SQLAlchemy's executemany sends this ON CONFLICT statement row by row (it does
not qualify for "insertmanyvalues"), a round trip and a plan per row; building
a fresh 200-row ``insert().values(rows)`` compiles thousands of bind
parameters per page. Here the statement is compiled once per table and column
set and only the rows travel, through the columns' own bind processors (JSONB
serialization and the like), so the values are what SQLAlchemy would send.

Same statement and guard as :func:`tds.db.upsert.upsert_records`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from psycopg2.extras import execute_values  # type: ignore[import-untyped]  # no stubs
from sqlalchemy import ColumnElement, Table, and_, func, or_
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from tds.db.upsert import CONFLICT_COLUMNS, newer_or_same

_VALUES = re.compile(r" VALUES (\(.*?\)) ON CONFLICT ", re.DOTALL)


@dataclass(frozen=True)
class _Prepared:
    sql: str  # with a single %s standing for the VALUES rows
    template: str  # one row: (%(name)s, ...)
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


@cache
def _prepared(table: Table, columns: tuple[str, ...], dialect: Dialect,
              skip_unchanged: bool) -> _Prepared:
    statement = postgresql.insert(table).inline().values(dict.fromkeys(columns))
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
    compiled = statement.compile(dialect=dialect)
    text = str(compiled)
    match = _VALUES.search(text)
    if (match is None or compiled.positional or set(compiled.params) != set(columns)
            or "RETURNING" in text):
        raise AssertionError(f"unexpected upsert SQL for {table.name}: {text}")
    template = match.group(1)
    sql = text[:match.start(1)] + "%s" + text[match.end(1):]
    processors = []
    for name in columns:
        column_type = table.c[name].type
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((name, processor))
    return _Prepared(sql, template, tuple(processors))


def changed(stored: ColumnElement[Any], deleted_at: ColumnElement[Any],
            incoming: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether an incoming version is worth writing over a stored row: not the
    same version of a live row (a rewrite would only move ``synced_at``)."""
    return or_(incoming.is_(None), stored.is_(None), incoming != stored,
               deleted_at.is_not(None))


def upsert_page(session: Session, table: Table, rows: Sequence[Mapping[str, Any]],
                skip_unchanged: bool = False) -> int:
    """Upsert `rows` (all with the same keys, one row per key) in one statement,
    unless the stored version is newer (or, with `skip_unchanged`, the same version
    of a row not soft-deleted). Returns the rows written."""
    if not rows:
        return 0
    connection = session.connection()
    prepared = _prepared(table, tuple(rows[0]), connection.dialect, skip_unchanged)
    if prepared.processors:
        values: list[Mapping[str, Any]] = []
        for row in rows:
            converted = dict(row)
            for name, processor in prepared.processors:
                converted[name] = processor(converted[name])
            values.append(converted)
    else:
        values = list(rows)
    cursor = connection.connection.cursor()
    try:
        execute_values(cursor, prepared.sql, values, template=prepared.template,
                       page_size=len(values))
        return int(cursor.rowcount)
    finally:
        cursor.close()
