"""The one write path keeps the newest version whatever order versions arrive in,
on every path (single row, page, SQLite rows) and both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, select

from tds.db import write
from tds.db.models import Invoice, PriceList, PriceListItem, Product, StockLevel
from tds.db.session import Database

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
PRODUCTS = cast(Table, Product.__table__)
# One row takes the single-row statement on Postgres; fifty the page statement.
BATCH_SIZES = [pytest.param(1, id="single"), pytest.param(50, id="page")]


def product(zoho_id: str, name: str, modified: datetime | None) -> dict[str, Any]:
    return {
        "organization_id": "org1", "zoho_id": zoho_id, "name": name, "rate": Decimal("9.5"),
        "document": {"item_id": zoho_id, "name": name}, "last_modified_time": modified,
        "deleted_at": None,
    }


def batch(size: int, name: str, modified: datetime | None) -> list[dict[str, Any]]:
    return [product(str(n), name, modified) for n in range(size)]


def upsert(database: Database, rows: list[dict[str, Any]], skip_unchanged: bool = False) -> int:
    with database.session() as session:
        return write.write_rows(session, PRODUCTS, rows, skip_unchanged=skip_unchanged)


def names(database: Database) -> set[str | None]:
    with database.session() as session:
        return set(session.scalars(select(Product.name)))


@pytest.mark.parametrize("size", BATCH_SIZES)
def test_an_older_version_never_overwrites_a_newer_one(database: Database, size: int) -> None:
    assert upsert(database, batch(size, "new", T0 + timedelta(minutes=5))) == size
    assert upsert(database, batch(size, "old", T0)) == 0
    assert names(database) == {"new"}


@pytest.mark.parametrize("size", BATCH_SIZES)
def test_a_newer_version_replaces_the_stored_one(database: Database, size: int) -> None:
    upsert(database, batch(size, "old", T0))
    assert upsert(database, batch(size, "new", T0 + timedelta(seconds=1))) == size
    assert names(database) == {"new"}


@pytest.mark.parametrize("size", BATCH_SIZES)
def test_an_equal_version_is_applied_again_unless_unchanged_rows_are_skipped(
        database: Database, size: int) -> None:
    upsert(database, batch(size, "first", T0))
    assert upsert(database, batch(size, "skipped", T0), skip_unchanged=True) == 0
    assert names(database) == {"first"}
    assert upsert(database, batch(size, "replayed", T0)) == size
    assert names(database) == {"replayed"}


@pytest.mark.parametrize("size", BATCH_SIZES)
def test_a_soft_deleted_row_at_the_same_version_comes_back(database: Database,
                                                           size: int) -> None:
    upsert(database, batch(size, "live", T0))
    with database.session() as session:
        assert write.mark_deleted(session, PRODUCTS, "org1", [str(n) for n in range(size)]) \
            == size
    assert upsert(database, batch(size, "back", T0), skip_unchanged=True) == size
    with database.session() as session:
        assert session.scalar(select(func.count()).where(Product.deleted_at.is_not(None))) == 0


def test_offsets_are_compared_as_instants(database: Database) -> None:
    # 10:00-08:00 is 18:00 UTC: later than 12:00 UTC even though it reads earlier.
    pacific = datetime(2026, 11, 1, 10, 0, tzinfo=UTC).astimezone(
        datetime.strptime("-0800", "%z").tzinfo
    ) + timedelta(hours=8)
    upsert(database, [product("1", "pacific", pacific)])
    upsert(database, [product("1", "utc-noon", datetime(2026, 11, 1, 12, tzinfo=UTC))])
    assert names(database) == {"pacific"}
    with database.session() as session:
        assert session.scalars(select(Product.last_modified_time)).one() == pacific


def test_within_one_batch_the_newest_version_of_a_key_wins(database: Database) -> None:
    upsert(database, [product("7", "middle", T0 + timedelta(seconds=1)),
                      product("7", "newest", T0 + timedelta(seconds=2)),
                      product("7", "oldest", T0)])
    assert names(database) == {"newest"}


@pytest.mark.parametrize("size", BATCH_SIZES)
def test_a_version_less_update_never_replaces_a_versioned_row(database: Database,
                                                              size: int) -> None:
    upsert(database, batch(size, "versioned", T0))
    assert upsert(database, batch(size, "unversioned", None)) == 0
    assert names(database) == {"versioned"}


def test_a_large_batch_is_written_at_once(database: Database) -> None:
    assert upsert(database, batch(5000, "many", T0)) == 5000
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 5000


def test_batches_come_in_key_order_so_concurrent_writers_lock_rows_alike() -> None:
    rows = [{"organization_id": "o", "zoho_id": zoho_id, "last_modified_time": T0}
            for zoho_id in ("3", "1", "2", "1")]
    assert [row["zoho_id"] for row in write.newest_per_key(rows)] == ["1", "2", "3"]


def test_children_are_replaced_only_under_their_parents_stored_version(
        database: Database) -> None:
    parents = cast(Table, PriceList.__table__)
    children = cast(Table, PriceListItem.__table__)
    with database.session() as session:
        write.write_rows(session, parents, [{
            "organization_id": "org1", "zoho_id": "P1", "name": "Trade", "deleted_at": None,
            "document": {}, "last_modified_time": T0}])
        rewritten = write.replace_children(session, parents, children, "org1", {
            "P1": (T0, [{"item_id": "a", "pricebook_rate": Decimal(1)}]),
            "unknown": (T0, [{"item_id": "z", "pricebook_rate": None}])},
            parent_key="price_list_id")
        assert rewritten == 1
        stale = write.replace_children(session, parents, children, "org1", {
            "P1": (T0 - timedelta(seconds=1), [{"item_id": "b", "pricebook_rate": None}])},
            parent_key="price_list_id")
        assert stale == 0
    with database.session() as session:
        assert session.scalars(select(PriceListItem.item_id)).all() == ["a"]


def test_insert_for_picks_the_dialects_insert(database: Database) -> None:
    statement = write.insert_for(database.engine)(PRODUCTS)
    assert statement.__module__.startswith(f"sqlalchemy.dialects.{database.dialect}")


def invoice(version: datetime, kind: str, **document: Any) -> dict[str, Any]:
    return {"organization_id": "org1", "zoho_id": "INV1", "status": document.get("status"),
            "last_modified_time": version, "deleted_at": None, "document_kind": kind,
            "document": {"invoice_id": "INV1", **document}}


def stored_invoice(database: Database) -> tuple[str | None, str, dict[str, Any]]:
    with database.session() as session:
        row = session.execute(select(Invoice.status, Invoice.document_kind,
                                     Invoice.document)).one()
        return row.status, row.document_kind, row.document


def write_invoice(database: Database, row: dict[str, Any], skip_unchanged: bool = True) -> int:
    with database.session() as session:
        return write.write_rows(session, cast(Table, Invoice.__table__), [row],
                                skip_unchanged=skip_unchanged)


def test_a_summary_never_takes_away_what_the_full_document_brought(database: Database) -> None:
    lines = [{"line_item_id": "L1", "quantity": 2}]
    write_invoice(database, invoice(T0, "full", status="sent", line_items=lines, notes="n"))
    # The same version listed: nothing new, the row stays full.
    assert write_invoice(database, invoice(T0, "summary", status="sent")) == 0
    assert stored_invoice(database)[1] == "full"
    # A newer list row: its columns and keys win, the detail stays, the row awaits a GET.
    later = T0 + timedelta(minutes=1)
    assert write_invoice(database, invoice(later, "summary", status="paid")) == 1
    status, kind, document = stored_invoice(database)
    assert (status, kind, document["line_items"], document["notes"]) == (
        "paid", "summary", lines, "n")
    # The full record of that version replaces the document and makes the row full again.
    assert write_invoice(database, invoice(later, "full", status="paid", line_items=[])) == 1
    assert stored_invoice(database)[1:] == ("full", {"invoice_id": "INV1", "status": "paid",
                                                     "line_items": []})


def test_compared_columns_are_news_at_an_unchanged_stamp(database: Database) -> None:
    stock = write.Target(cast(Table, StockLevel.__table__),
                         key=("organization_id", "zoho_id", "location_id"),
                         compared=("stock_on_hand",))

    def level(quantity: int) -> dict[str, Any]:
        return {"organization_id": "org1", "zoho_id": "I1", "location_id": "",
                "stock_on_hand": Decimal(quantity), "last_modified_time": T0,
                "deleted_at": None, "document_kind": "summary", "document": {}}

    with database.session() as session:
        assert write.write_rows(session, stock, [level(5)]) == 1
        assert write.write_rows(session, stock, [level(5)]) == 0
        assert write.write_rows(session, stock, [level(3)]) == 1  # moved, same stamp
        assert session.scalars(select(StockLevel.stock_on_hand)).one() == Decimal(3)
