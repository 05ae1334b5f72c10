"""Writing synced records: guarded upserts, soft deletes, price list items.

Functions take a `Session` and never commit. Every write of an entity row
goes through :func:`tds.db.upsert.upsert_records`, so an older version of
a record can never replace a newer one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from tds.db.models import Base, PriceList, PriceListItem
from tds.db.upsert import CONFLICT_COLUMNS, newest_per_key, upsert_records
from tds.db.values_upsert import upsert_page
from tds.pages import SourcePage

BULK_MIN_ROWS = 50  # below this, upsert_records' multi-VALUES statement is as quick
IN_CHUNK = 1000  # ids per IN (...) list: well under every driver's parameter limit


def _chunks(values: Sequence[str], size: int = IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def stored_versions(session: Session, model: type[Base], organization_id: str,
                    zoho_ids: Collection[str]) -> dict[str, tuple[datetime | None, bool]]:
    """``{zoho_id: (last_modified_time, deleted)}`` of the stored rows among `zoho_ids`."""
    table = model.__table__
    found: dict[str, tuple[datetime | None, bool]] = {}
    for chunk in _chunks(sorted(zoho_ids)):
        query = select(table.c.zoho_id, table.c.last_modified_time, table.c.deleted_at).where(
            table.c.organization_id == organization_id, table.c.zoho_id.in_(chunk))
        for zoho_id, modified, deleted_at in session.execute(query):
            found[zoho_id] = (modified, deleted_at is not None)
    return found


def write_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]],
               source: SourcePage | None = None) -> int:
    """Upsert `rows`, leaving out those already stored at the same version (a full
    pass over unchanged data then writes nothing). `source` is the page the rows'
    documents were decoded from, if they were. Returns the rows written."""
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= BULK_MIN_ROWS:
        # The same-version check is part of the statement's guard: no read first.
        table: Table = model.__table__  # type: ignore[assignment]
        return upsert_page(session, table, newest_per_key(rows, CONFLICT_COLUMNS),
                           skip_unchanged=True, source=source)
    stored = stored_versions(session, model, str(rows[0]["organization_id"]),
                             {str(row["zoho_id"]) for row in rows})
    changed = [row for row in rows if not _unchanged(row, stored.get(str(row["zoho_id"])))]
    return upsert_records(session, model, changed)


def _unchanged(row: Mapping[str, Any], stored: tuple[datetime | None, bool] | None) -> bool:
    if stored is None:
        return False
    modified, deleted = stored
    incoming = row.get("last_modified_time")
    return incoming is not None and modified == incoming and not deleted


def mark_deleted(session: Session, model: type[Base], organization_id: str,
                 zoho_ids: Iterable[str], at: datetime | None = None) -> int:
    """Soft-delete rows (set `deleted_at`); rows are never removed. Returns rows changed."""
    table: Table = model.__table__  # type: ignore[assignment]
    moment = at or datetime.now(UTC)
    changed = 0
    for chunk in _chunks(sorted(set(zoho_ids))):
        result = session.execute(update(table).where(
            table.c.organization_id == organization_id, table.c.zoho_id.in_(chunk),
            table.c.deleted_at.is_(None)).values(deleted_at=moment))
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


def live_ids(session: Session, model: type[Base], organization_id: str,
             synced_before: datetime | None = None) -> set[str]:
    """Ids of the rows not soft-deleted (optionally only those synced before a moment)."""
    table = model.__table__
    query = select(table.c.zoho_id).where(table.c.organization_id == organization_id,
                                          table.c.deleted_at.is_(None))
    if synced_before is not None:
        query = query.where(table.c.synced_at < synced_before)
    return set(session.scalars(query))


def replace_price_list_items(
    session: Session, organization_id: str,
    items: Mapping[str, tuple[datetime | None, list[dict[str, Any]]]],
) -> int:
    """Replace the item rows of each price list whose stored version is the one the
    items came with (a stale document never rewrites a newer list's items).

    `items` maps a price book id to (its last_modified_time, its item rows).
    Returns how many price lists were rewritten.
    """
    if not items:
        return 0
    # Lock the lists first so two workers never interleave delete and insert.
    query = select(PriceList.id, PriceList.zoho_id, PriceList.last_modified_time).where(
        PriceList.organization_id == organization_id, PriceList.zoho_id.in_(list(items)),
    ).with_for_update()
    rewritten = 0
    for list_id, zoho_id, stored in session.execute(query).all():
        version, lines = items[zoho_id]
        if stored != version:
            continue
        session.execute(delete(PriceListItem).where(PriceListItem.price_list_id == list_id))
        unique = {str(line["item_id"]): line.get("pricebook_rate") for line in lines}
        if unique:
            session.execute(insert(PriceListItem), [
                {"price_list_id": list_id, "item_id": item_id, "pricebook_rate": rate}
                for item_id, rate in unique.items()])
        rewritten += 1
    return rewritten
