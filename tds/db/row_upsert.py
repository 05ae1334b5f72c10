"""The guarded upsert of an event's row as a statement built once per table and
column set: executing it compiles nothing (a worker writes one row per event,
where building a fresh multi-VALUES statement cost more than the database did).

Same statement and guard as :func:`tds.db.upsert.upsert_records`, which handles
every other case (several rows, SQLite).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from tds.db.models import Base
from tds.db.upsert import CONFLICT_COLUMNS, newer_or_same, upsert_records


@cache
def _statement(table: Table, columns: tuple[str, ...]) -> Any:
    statement = postgresql.insert(table)
    excluded = statement.excluded
    updates: dict[str, Any] = {name: excluded[name] for name in columns
                               if name not in CONFLICT_COLUMNS and name != "id"}
    if "synced_at" in table.c and "synced_at" not in updates:
        updates["synced_at"] = func.now()
    return statement.on_conflict_do_update(
        index_elements=list(CONFLICT_COLUMNS), set_=updates,
        where=newer_or_same(table.c.last_modified_time, excluded.last_modified_time))


def upsert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert or update `rows` unless the stored version is newer; rows written."""
    if len(rows) != 1 or session.get_bind().dialect.name != "postgresql":
        return upsert_records(session, model, rows)
    table: Table = model.__table__  # type: ignore[assignment]
    result = session.connection().execute(_statement(table, tuple(rows[0])), dict(rows[0]))
    return int(result.rowcount or 0)
