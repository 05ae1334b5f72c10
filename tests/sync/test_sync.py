"""Sync functions against the sandbox over HTTP and a scripted Zoho, on both dialects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tds import records, sync
from tds.config import Settings
from tds.db.models import Customer, PriceList, PriceListItem, Product, StockLevel, SyncState
from tds.db.session import Database
from tds.entities import BY_NAME, UnusableDocumentError
from tds.mapping import parse_zoho_time
from tds.sandbox import SandboxServer
from tds.zoho import UnifiedZohoClient
from tests.sync.conftest import ORG, FakeZoho


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
        database: Database, client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    spec, org = BY_NAME["products"], zoho_settings.zoho_organization_id
    first = sync.sync_full(database, client, spec, org)
    assert stored(database, Product) == as_instants(sandbox.admin.records("items"))
    assert first.written == first.seen == 30
    assert sync.sync_full(database, client, spec, org).written == 0
    with database.session() as session:
        product = session.scalars(select(Product).limit(1)).one()
        assert isinstance(product.rate, Decimal)
        assert product.document["item_id"] == product.zoho_id


def test_incremental_sync_reads_only_what_changed_since_the_cursor(
        database: Database, client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    spec, org = BY_NAME["invoices"], zoho_settings.zoho_organization_id
    sync.sync_incremental(database, client, spec, org)  # no cursor yet: a full pass
    changed = sandbox.admin.change("invoices", 3)
    report = sync.sync_incremental(database, client, spec, org)
    assert report.written == 3
    assert report.cursor == max(as_instants({c["id"]: c["last_modified_time"]
                                             for c in changed}).values())
    assert stored(database, BY_NAME["invoices"].model) == as_instants(
        sandbox.admin.records("invoices"))
    with database.session() as session:
        state = session.scalars(select(SyncState).where(SyncState.entity == "invoices")).one()
        assert state.cursor == report.cursor
        assert state.last_incremental_at is not None


def test_customers_are_only_the_customer_contacts(
        database: Database, client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    sync.sync_full(database, client, BY_NAME["customers"], zoho_settings.zoho_organization_id)
    customers = {contact["contact_id"] for contact in sandbox.state.store.tables["contacts"]
                 .records.values() if contact["contact_type"] == "customer"}
    assert set(stored(database, Customer)) == customers


def test_reconcile_soft_deletes_what_zoho_lost_and_undeletes_what_reappears(
        database: Database, client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    spec, org = BY_NAME["products"], zoho_settings.zoho_organization_id
    sync.sync_full(database, client, spec, org)
    gone = sorted(sandbox.admin.records("items"))[:2]
    table = sandbox.state.store.tables["items"]
    original = (dict(table.records[gone[0]]), table.modified[gone[0]])
    sandbox.admin.delete("items", gone)
    assert sync.reconcile(database, client, spec, org).deleted == 2
    assert set(stored(database, Product)) == set(sandbox.admin.records("items"))
    assert set(stored(database, Product, live=False)) >= set(gone)  # never hard-deleted
    # A record Zoho lists again (as it was) comes back.
    with sandbox.state.store.lock:
        table.records[gone[0]], table.modified[gone[0]] = original
        table.changed()
    assert sync.reconcile(database, client, spec, org).deleted == 0
    assert gone[0] in stored(database, Product)


def test_stock_levels_come_from_items_stock_fields(
        database: Database, client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    sync.sync_full(database, client, BY_NAME["stock"], zoho_settings.zoho_organization_id)
    with database.session() as session:
        levels = {s.zoho_id: s.stock_on_hand for s in session.scalars(select(StockLevel))}
    records = sandbox.state.store.tables["items"].records
    assert levels == {key: Decimal(str(r["stock_on_hand"])) for key, r in records.items()}


def test_price_lists_carry_their_items(
        database: Database, client: UnifiedZohoClient, sandbox: SandboxServer,
        zoho_settings: Settings) -> None:
    sync.sync_incremental(database, client, BY_NAME["prices"], zoho_settings.zoho_organization_id)
    with database.session() as session:
        lists = session.scalars(select(PriceList)).all()
        assert len(lists) == 3
        assert all(len(price_list.items) == 5 for price_list in lists)


# --- events, with a scripted Zoho ----------------------------------------------


def apply(database: Database, zoho: FakeZoho, entity: str, payload: dict[str, Any],
          zoho_id: str) -> sync.EventResult:
    with database.session() as session:
        return sync.apply_event(session, zoho, BY_NAME[entity], ORG, payload, zoho_id)


def test_a_complete_webhook_is_written_without_calling_zoho(database: Database) -> None:
    zoho = FakeZoho()
    assert apply(database, zoho, "products", {"item": item("1", "05")}, "1").written == 1
    assert zoho.calls == []
    assert list(stored(database, Product)) == ["1"]


def test_a_partial_webhook_fetches_the_record(database: Database) -> None:
    zoho = FakeZoho({"/items": [item("1", "05", name="Fetched")]})
    result = apply(database, zoho, "products", {"item_id": "1", "rate": 3}, "1")
    assert (result.fetched, result.written, zoho.calls) == (1, 1, ["/items/1"])
    with database.session() as session:
        assert session.scalars(select(Product.name)).one() == "Fetched"


def test_out_of_order_events_keep_the_newer_version(database: Database) -> None:
    zoho = FakeZoho()
    apply(database, zoho, "products", item("1", "09", name="newer"), "1")
    apply(database, zoho, "products", item("1", "01", name="older"), "1")
    apply(database, zoho, "products", item("1", "09", name="newer"), "1")  # a replay
    with database.session() as session:
        assert session.scalars(select(Product.name)).all() == ["newer"]


def test_a_record_zoho_answers_404_for_is_soft_deleted(database: Database) -> None:
    zoho = FakeZoho()
    apply(database, zoho, "products", item("1", "01"), "1")
    assert apply(database, zoho, "products", {"item_id": "1"}, "1").deleted == 1
    assert stored(database, Product) == {}
    assert list(stored(database, Product, live=False)) == ["1"]


def test_an_inventory_adjustment_refreshes_the_items_it_names(database: Database) -> None:
    zoho = FakeZoho({"/items": [item("1", "03", stock=7), item("2", "03", stock=9)]})
    adjustment = {"inventory_adjustment_id": "77", "line_items": [
        {"item_id": "1", "quantity_adjusted": 2}, {"item_id": "2", "quantity_adjusted": -1}]}
    assert apply(database, zoho, "stock", adjustment, "77").written == 2
    with database.session() as session:
        levels = dict(session.execute(
            select(StockLevel.zoho_id, StockLevel.stock_on_hand)).all())
    assert levels == {"1": Decimal(7), "2": Decimal(9)}


def pricebook(modified: str, items: dict[str, float]) -> dict[str, Any]:
    return {"pricebook_id": "P1", "name": "Trade", "currency_code": "USD",
            "last_modified_time": f"2024-01-01T00:00:{modified}+0000",
            "pricebook_items": [{"item_id": k, "pricebook_rate": v} for k, v in items.items()]}


def test_a_price_book_replaces_its_items_unless_it_is_stale(database: Database) -> None:
    zoho = FakeZoho()
    apply(database, zoho, "prices", pricebook("02", {"a": 1.5, "b": 2}), "P1")
    apply(database, zoho, "prices", pricebook("05", {"b": 2.25, "c": 3}), "P1")
    apply(database, zoho, "prices", pricebook("03", {"z": 9}), "P1")  # stale
    with database.session() as session:
        rates = dict(session.execute(
            select(PriceListItem.item_id, PriceListItem.pricebook_rate)).all())
    assert rates == {"b": Decimal("2.25"), "c": Decimal(3)}


def test_an_unusable_event_document_is_an_error_not_a_silent_skip(database: Database) -> None:
    bad = {**item("1", "01"), "rate": "twelve"}
    with pytest.raises(UnusableDocumentError):
        apply(database, FakeZoho(), "products", bad, "1")


def test_a_full_pass_skips_unusable_documents(database: Database) -> None:
    zoho = FakeZoho({"/items": [item("1", "01"), {**item("2", "01"), "rate": "twelve"}]})
    report = sync.sync_full(database, zoho, BY_NAME["products"], ORG)
    assert (report.seen, report.written) == (2, 1)


def test_a_full_page_upsert_keeps_the_guard_and_undeletes(database: Database) -> None:
    """Pages above the bulk threshold take the multi-row statement: older versions
    never overwrite newer ones, newer ones do, soft-deleted rows come back."""
    spec = BY_NAME["products"]
    first = [item(str(n), "10", name="first", stock=n) for n in range(150)]
    assert sync.sync_full(database, FakeZoho({"/items": first}), spec, ORG).written == 150
    assert sync.sync_full(database, FakeZoho({"/items": first}), spec, ORG).written == 0
    with database.session() as session:
        records.mark_deleted(session, Product, ORG, ["0", "149"])
    assert sync.sync_full(database, FakeZoho({"/items": first}), spec, ORG).written == 2
    with database.session() as session:
        records.mark_deleted(session, Product, ORG, ["149"])
    second = [item(str(n), "05" if n < 75 else "20", name="second") for n in range(150)]
    assert sync.sync_full(database, FakeZoho({"/items": second}), spec, ORG).written == 75
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
