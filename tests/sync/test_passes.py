"""Sync passes against the sandbox over HTTP and a scripted Zoho, on both dialects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tds import sync
from tds.config import Settings
from tds.db import write
from tds.db.models import Customer, PriceList, Product, StockLevel, SyncState
from tds.db.session import Database
from tds.entities import BY_NAME
from tds.mapping import parse_zoho_time
from tds.sandbox import SandboxServer
from tds.zoho import UnifiedZohoClient
from tests.fixtures.zoho import ORG, FakeZoho


def stored(database: Database, model: Any, live: bool = True) -> dict[str, Any]:
    with database.session() as session:
        query = select(model.zoho_id, model.last_modified_time)
        if live:
            query = query.where(model.deleted_at.is_(None))
        return dict(session.execute(query).all())


def as_instants(versions: dict[str, str]) -> dict[str, datetime]:
    instants = {key: parse_zoho_time(value) for key, value in versions.items()}
    return {key: value for key, value in instants.items() if value is not None}


def item(item_id: str, modified: str, name: str = "Bolt", stock: int = 5) -> dict[str, Any]:
    return {"item_id": item_id, "name": name, "rate": 1.1, "sku": f"SKU-{item_id}",
            "stock_on_hand": stock, "available_stock": stock,
            "last_modified_time": f"2024-01-01T00:00:{modified}+0000"}


def test_full_sync_brings_exactly_zohos_records_and_a_rerun_writes_nothing(
        database: Database, zoho_client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    entity, org = BY_NAME["products"], zoho_settings.zoho_organization_id
    first = sync.sync_full(database, zoho_client, entity, org)
    assert stored(database, Product) == as_instants(sandbox.admin.records("items"))
    assert first.written == first.seen == 30
    assert sync.sync_full(database, zoho_client, entity, org).written == 0
    with database.session() as session:
        product = session.scalars(select(Product).limit(1)).one()
        assert isinstance(product.rate, Decimal)
        assert product.document["item_id"] == product.zoho_id


def test_incremental_sync_reads_only_what_changed_since_the_cursor(
        database: Database, zoho_client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    entity, org = BY_NAME["invoices"], zoho_settings.zoho_organization_id
    sync.sync_incremental(database, zoho_client, entity, org)  # no cursor yet: a full pass
    changed = sandbox.admin.change("invoices", 3)
    report = sync.sync_incremental(database, zoho_client, entity, org)
    assert report.written == 3
    assert report.cursor == max(as_instants({c["id"]: c["last_modified_time"]
                                             for c in changed}).values())
    assert stored(database, entity.model) == as_instants(
        sandbox.admin.records("invoices"))
    with database.session() as session:
        state = session.scalars(select(SyncState).where(SyncState.entity == "invoices")).one()
        assert state.cursor == report.cursor
        assert state.last_incremental_at is not None


def test_customers_are_only_the_customer_contacts(
        database: Database, zoho_client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    sync.sync_full(database, zoho_client, BY_NAME["customers"], zoho_settings.zoho_organization_id)
    customers = {contact["contact_id"] for contact in sandbox.state.store.tables["contacts"]
                 .records.values() if contact["contact_type"] == "customer"}
    assert set(stored(database, Customer)) == customers


def test_reconcile_soft_deletes_what_zoho_lost_and_undeletes_what_reappears(
        database: Database, zoho_client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    entity, org = BY_NAME["products"], zoho_settings.zoho_organization_id
    sync.sync_full(database, zoho_client, entity, org)
    gone = sorted(sandbox.admin.records("items"))[:2]
    table = sandbox.state.store.tables["items"]
    original = (dict(table.records[gone[0]]), table.modified[gone[0]])
    sandbox.admin.delete("items", gone)
    assert sync.reconcile(database, zoho_client, entity, org).deleted == 2
    assert set(stored(database, Product)) == set(sandbox.admin.records("items"))
    assert set(stored(database, Product, live=False)) >= set(gone)  # never hard-deleted
    # A record Zoho lists again (as it was) comes back.
    with sandbox.state.store.lock:
        table.records[gone[0]], table.modified[gone[0]] = original
        table.changed()
    assert sync.reconcile(database, zoho_client, entity, org).deleted == 0
    assert gone[0] in stored(database, Product)


def test_stock_levels_come_from_items_stock_fields(
        database: Database, zoho_client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    sync.sync_full(database, zoho_client, BY_NAME["stock"], zoho_settings.zoho_organization_id)
    with database.session() as session:
        levels = {s.zoho_id: s.stock_on_hand for s in session.scalars(select(StockLevel))}
    records = sandbox.state.store.tables["items"].records
    assert levels == {key: Decimal(str(r["stock_on_hand"])) for key, r in records.items()}


def test_price_lists_carry_their_items(
        database: Database, zoho_client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    sync.sync_incremental(database, zoho_client, BY_NAME["prices"],
                          zoho_settings.zoho_organization_id)
    with database.session() as session:
        lists = session.scalars(select(PriceList)).all()
        assert len(lists) == 3
        assert all(len(price_list.items) == 5 for price_list in lists)


def test_a_full_pass_skips_unusable_documents(database: Database) -> None:
    zoho = FakeZoho({"/items": [item("1", "01"), {**item("2", "01"), "rate": "twelve"}]})
    report = sync.sync_full(database, zoho, BY_NAME["products"], ORG)
    assert (report.seen, report.written) == (2, 1)


def test_a_full_page_upsert_keeps_the_guard_and_undeletes(database: Database) -> None:
    """Pages above the bulk threshold take the multi-row statement: older versions
    never overwrite newer ones, newer ones do, soft-deleted rows come back."""
    products = BY_NAME["products"]
    first = [item(str(n), "10", name="first", stock=n) for n in range(150)]
    assert sync.sync_full(database, FakeZoho({"/items": first}), products, ORG).written == 150
    assert sync.sync_full(database, FakeZoho({"/items": first}), products, ORG).written == 0
    with database.session() as session:
        write.mark_deleted(session, products.table, ORG, ["0", "149"])
    assert sync.sync_full(database, FakeZoho({"/items": first}), products, ORG).written == 2
    with database.session() as session:
        write.mark_deleted(session, products.table, ORG, ["149"])
    second = [item(str(n), "05" if n < 75 else "20", name="second") for n in range(150)]
    assert sync.sync_full(database, FakeZoho({"/items": second}), products, ORG).written == 75
    with database.session() as session:
        rows = {zoho_id: (name, stock, deleted)
                for zoho_id, name, stock, deleted in session.execute(
                    select(Product.zoho_id, Product.name, Product.stock_on_hand,
                           Product.deleted_at))}
    assert len(rows) == 150
    assert all(rows[str(n)][0] == "first" for n in range(75))
    assert all(rows[str(n)][:2] == ("second", Decimal(5)) for n in range(75, 150))
    assert rows["149"][2] is None
    assert rows["3"][1] == Decimal(3)
