"""Sync passes against the sandbox over HTTP and a scripted Zoho, on both dialects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tds import events, sync
from tds.config import Settings
from tds.db import write
from tds.db.models import (
    Customer,
    Invoice,
    InvoiceLineItem,
    PriceList,
    Product,
    StockLevel,
    SyncState,
)
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
                          zoho_settings.zoho_organization_id, details=True)
    with database.session() as session:
        lists = session.scalars(select(PriceList)).all()
        assert len(lists) == 3
        assert all(len(price_list.items) == 5 for price_list in lists)


def test_a_full_pass_writes_odd_documents_and_skips_those_without_an_id(
        database: Database) -> None:
    zoho = FakeZoho({"/items": [item("1", "01"), {**item("2", "01"), "rate": "twelve"},
                                {**item("3", "01"), "item_id": ""}]})
    report = sync.sync_full(database, zoho, BY_NAME["products"], ORG)
    assert (report.seen, report.written) == (3, 2)
    with database.session() as session:
        rates = dict(session.execute(select(Product.zoho_id, Product.rate)).all())
    assert rates == {"1": Decimal("1.1"), "2": None}  # the rate that did not read is empty


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


def invoice_record(number: int, second: str, lines: int = 1) -> dict[str, Any]:
    return {"invoice_id": f"I{number}", "invoice_number": f"INV-{number}", "status": "sent",
            "total": "10.00", "notes": "only in the full record",
            "last_modified_time": f"2024-01-01T00:00:{second}+0000",
            "line_items": [{"line_item_id": f"L{number}-{n}", "item_id": "A", "quantity": n + 1,
                            "rate": 5, "item_total": 5 * (n + 1)} for n in range(lines)]}


class ListsSummaries(FakeZoho):
    """A Zoho whose list rows are summaries of the records its GET gives."""

    def paginated_fetch(self, path: str, list_key: str, params: Any = None,
                        per_page: int = 200) -> Any:
        for page in super().paginated_fetch(path, list_key, params, per_page):
            yield [{key: value for key, value in row.items()
                    if key not in ("line_items", "notes")} for row in page]


def test_full_then_incremental_keeps_every_detail_field_and_line_item(
        database: Database) -> None:
    invoices = BY_NAME["invoices"]
    zoho = ListsSummaries({"/invoices": [invoice_record(1, "01"), invoice_record(2, "01", 2)]})
    report = sync.sync_full(database, zoho, invoices, ORG, details=True)
    assert (report.written, report.details) == (2, 2)
    zoho.records["/invoices"][0] = invoice_record(1, "05", lines=3)  # changed in Zoho
    calls = len(zoho.calls)
    report = sync.sync_incremental(database, zoho, invoices, ORG, details=True)
    assert report.details == 1
    assert zoho.calls[calls:] == ["list /invoices", "/invoices/I1"]  # one call per change
    with database.session() as session:
        documents: dict[str, Any] = dict(session.execute(select(Invoice.zoho_id,
                                                                Invoice.document)).all())
        kinds = set(session.scalars(select(Invoice.document_kind)))
        lines = session.execute(select(InvoiceLineItem.invoice_id, InvoiceLineItem.quantity)
                                .order_by(InvoiceLineItem.line_item_id)).all()
    assert kinds == {"full"}
    assert all(document["notes"] and document["line_items"] for document in documents.values())
    assert [tuple(line) for line in lines] == [
        ("I1", Decimal(1)), ("I1", Decimal(2)), ("I1", Decimal(3)),
        ("I2", Decimal(1)), ("I2", Decimal(2))]


def test_without_details_list_rows_merge_over_the_full_record(database: Database) -> None:
    invoices = BY_NAME["invoices"]
    zoho = ListsSummaries({"/invoices": [invoice_record(1, "01")]})
    fetched = events.fetch_event(zoho, invoices, {"invoice_id": "I1"}, "I1")
    with database.session() as session:
        events.write_event(session, invoices, ORG, fetched)  # an id-only webhook: the GET
    zoho.records["/invoices"][0] = {**invoice_record(1, "09"), "status": "paid"}
    sync.sync_incremental(database, zoho, invoices, ORG)
    with database.session() as session:
        status, kind, document = session.execute(select(
            Invoice.status, Invoice.document_kind, Invoice.document)).one()
    assert (status, kind) == ("paid", "summary")
    assert document["line_items"]
    assert document["notes"]


def stocked_item(item_id: str, stamp: str, **located: int) -> dict[str, Any]:
    total = sum(located.values())
    return {"item_id": item_id, "name": "Bolt", "sku": f"S-{item_id}", "stock_on_hand": total,
            "available_stock": total, "last_modified_time": f"2024-01-01T00:00:{stamp}+0000",
            "locations": [{"location_id": location, "location_name": location.title(),
                           "location_stock_on_hand": quantity,
                           "location_available_stock": quantity}
                          for location, quantity in located.items()]}


class ListsItemsWithoutLocations(FakeZoho):
    """Item list rows carry the totals, never ``locations[]`` (only the GET does)."""

    def paginated_fetch(self, path: str, list_key: str, params: Any = None,
                        per_page: int = 200) -> Any:
        for page in super().paginated_fetch(path, list_key, params, per_page):
            yield [{k: v for k, v in row.items() if k != "locations"} for row in page]


def stock_rows(database: Database) -> dict[tuple[str, str], Decimal | None]:
    with database.session() as session:
        return {(zoho_id, location): quantity for zoho_id, location, quantity in
                session.execute(select(StockLevel.zoho_id, StockLevel.location_id,
                                       StockLevel.stock_on_hand))}


def test_stock_is_kept_per_location_and_a_move_without_a_stamp_is_seen(
        database: Database) -> None:
    stock = BY_NAME["stock"]
    zoho = ListsItemsWithoutLocations({"/items": [stocked_item("1", "01", north=3, south=4)]})
    sync.sync_incremental(database, zoho, stock, ORG, details=True)
    assert stock_rows(database) == {("1", ""): Decimal(7), ("1", "north"): Decimal(3),
                                    ("1", "south"): Decimal(4)}
    assert sync.sync_incremental(database, zoho, stock, ORG, details=True).written == 0
    zoho.records["/items"][0] = stocked_item("1", "01", north=1, south=4)  # same stamp
    report = sync.sync_incremental(database, zoho, stock, ORG, details=True)
    assert (report.written, report.details) == (1, 1)
    assert stock_rows(database) == {("1", ""): Decimal(5), ("1", "north"): Decimal(1),
                                    ("1", "south"): Decimal(4)}
