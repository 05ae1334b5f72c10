"""The upsert keeps the newest version whatever order versions arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tds.db.models import Product
from tds.db.session import Database
from tds.db.upsert import CONFLICT_COLUMNS, newest_per_key, upsert_records

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def product(zoho_id: str, name: str, modified: datetime | None) -> dict[str, Any]:
    return {
        "organization_id": "org1", "zoho_id": zoho_id, "name": name, "rate": Decimal("9.5"),
        "document": {"item_id": zoho_id, "name": name}, "last_modified_time": modified,
    }


def names(database: Database) -> dict[str, str | None]:
    with database.session() as session:
        return {p.zoho_id: p.name for p in session.scalars(select(Product))}


def test_an_older_version_never_overwrites_a_newer_one(database: Database) -> None:
    with database.session() as session:
        upsert_records(session, Product, [product("1", "new", T0 + timedelta(minutes=5))])
    with database.session() as session:
        upsert_records(session, Product, [product("1", "old", T0)])
    assert names(database) == {"1": "new"}


def test_a_newer_version_replaces_the_stored_one(database: Database) -> None:
    with database.session() as session:
        upsert_records(session, Product, [product("1", "old", T0)])
    with database.session() as session:
        upsert_records(session, Product, [product("1", "new", T0 + timedelta(seconds=1))])
    assert names(database) == {"1": "new"}


def test_offsets_are_compared_as_instants(database: Database) -> None:
    # 10:00-08:00 is 18:00 UTC: later than 12:00 UTC even though it reads earlier.
    pacific = datetime(2026, 11, 1, 10, 0, tzinfo=UTC).astimezone(
        datetime.strptime("-0800", "%z").tzinfo
    ) + timedelta(hours=8)
    with database.session() as session:
        upsert_records(session, Product, [product("1", "pacific", pacific)])
    with database.session() as session:
        upsert_records(session, Product, [product("1", "utc-noon", datetime(2026, 11, 1, 12,
                                                                            tzinfo=UTC))])
    assert names(database) == {"1": "pacific"}
    with database.session() as session:
        stored = session.scalars(select(Product.last_modified_time)).one()
    assert stored == pacific


def test_replaying_the_same_batch_is_idempotent(database: Database) -> None:
    batch = [product(str(n), f"item {n}", T0) for n in range(50)]
    for _ in range(3):
        with database.session() as session:
            upsert_records(session, Product, batch)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 50


def test_within_one_batch_the_newest_version_of_a_key_wins(database: Database) -> None:
    batch = [product("7", "middle", T0 + timedelta(seconds=1)),
             product("7", "newest", T0 + timedelta(seconds=2)),
             product("7", "oldest", T0)]
    with database.session() as session:
        upsert_records(session, Product, batch)
    assert names(database) == {"7": "newest"}


def test_a_version_less_update_never_replaces_a_versioned_row(database: Database) -> None:
    with database.session() as session:
        upsert_records(session, Product, [product("1", "versioned", T0)])
    with database.session() as session:
        upsert_records(session, Product, [product("1", "unversioned", None)])
    assert names(database) == {"1": "versioned"}


def test_a_large_batch_is_written_in_chunks(database: Database) -> None:
    batch = [product(str(n), f"item {n}", T0) for n in range(5000)]
    with database.session() as session:
        written = upsert_records(session, Product, batch)
    assert written == 5000
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 5000


def test_batches_come_in_key_order_so_concurrent_writers_lock_rows_alike() -> None:
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [{"organization_id": "o", "zoho_id": zoho_id, "last_modified_time": stamp}
            for zoho_id in ("3", "1", "2", "1")]
    assert [row["zoho_id"] for row in newest_per_key(rows, CONFLICT_COLUMNS)] == ["1", "2", "3"]
