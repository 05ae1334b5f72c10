"""Batch upserts guarded by Zoho's `last_modified_time`.

One ``INSERT … ON CONFLICT (organization_id, zoho_id) DO UPDATE … WHERE``
per batch, on Postgres and SQLite alike. The WHERE clause is the guard:
a row is replaced only by a version at least as new as the stored one, so
events that arrive out of order can never roll a record back. A version
equal to the stored one is re-applied, which keeps replays idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tds.db.models import Base

CONFLICT_COLUMNS = ("organization_id", "zoho_id")
# SQLite allows 32766 bound parameters per statement; stay well below it.
SQLITE_MAX_PARAMS = 30_000


def upsert_records(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str] = CONFLICT_COLUMNS,
) -> int:
    """Insert or update `rows` of `model`; return how many rows were written.

    Every row must carry the same keys, including the conflict columns and
    ``last_modified_time``. Rows older than the stored version are skipped.
    Within one batch the newest version of a key wins.
    """
    if not rows:
        return 0
    table: Table = model.__table__  # type: ignore[assignment]
    batch = newest_per_key(rows, conflict_columns)
    dialect = session.get_bind().dialect.name
    written = 0
    for chunk in _chunks(batch, _chunk_size(dialect, len(batch[0]))):
        written += _upsert_chunk(session, table, dialect, chunk, conflict_columns)
    return written


def _upsert_chunk(
    session: Session,
    table: Table,
    dialect: str,
    rows: list[dict[str, Any]],
    conflict_columns: Sequence[str],
) -> int:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(rows)
    excluded = statement.excluded
    updates: dict[str, Any] = {
        name: excluded[name]
        for name in rows[0]
        if name not in conflict_columns and name != "id"
    }
    if "synced_at" in table.c and "synced_at" not in updates:
        updates["synced_at"] = func.now()
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_=updates,
        where=newer_or_same(table.c.last_modified_time, excluded.last_modified_time),
    )
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def newer_or_same(stored: ColumnElement[Any], incoming: ColumnElement[Any]) -> ColumnElement[bool]:
    """The guard: take the incoming version unless the stored one is newer.

    A stored row without a version accepts anything; an incoming row
    without a version never replaces a versioned one.
    """
    return or_(stored.is_(None), and_(incoming.is_not(None), incoming >= stored))


def newest_per_key(
    rows: Iterable[Mapping[str, Any]], conflict_columns: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per conflict key, the newest version of each, in key order.

    ON CONFLICT cannot touch the same row twice in one statement (Postgres
    refuses), so every bulk writer collapses duplicates first. Key order means
    concurrent batches sharing rows lock them in the same order: they wait for
    each other, never deadlock.
    """
    newest: dict[Any, dict[str, Any]] = {}
    key_of = itemgetter(*conflict_columns)  # C speed: a full page goes through here
    for row in rows:
        key = key_of(row)
        kept = newest.get(key)
        if kept is None or _version(row) >= _version(kept):
            newest[key] = dict(row)
    return [newest[key] for key in sorted(newest)]


def _version(row: Mapping[str, Any]) -> tuple[bool, Any]:
    stamp = row.get("last_modified_time")
    return (stamp is not None, stamp.timestamp() if stamp is not None else 0)


def _chunk_size(dialect: str, columns: int) -> int:
    if dialect == "sqlite":
        return max(1, SQLITE_MAX_PARAMS // max(columns, 1))
    return 1000


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
