"""Faithful to Zoho, against the sandbox over HTTP and through the receiver, on both
dialects: full documents and line items survive list passes, deletes arrive in every
form Zoho sends them, inactive is not deleted, stock moving without a stamp is seen."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tds import events, sync
from tds.config import Settings
from tds.db.models import Invoice, InvoiceLineItem, Product, StockLevel
from tds.db.session import Database
from tds.entities import BY_NAME
from tds.sandbox import SandboxServer
from tds.zoho import UnifiedZohoClient
from tests.fixtures.receiver import zoho_headers
from tests.fixtures.sandbox import Books
from tests.fixtures.zoho import sandbox_settings

ORG_OF = "organization_id"


def deliver(receiver: FlaskClient, database: Database, settings: Settings,
            client: UnifiedZohoClient, webhook: str, document: Any, method: str = "POST",
            query: list[tuple[str, str]] | None = None) -> int:
    """A signed delivery as Zoho sends it, processed by the worker's function; its event."""
    body = json.dumps(document).encode()
    pairs = query or []
    path = f"/api/zoho/webhooks/{webhook}" + (
        "?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
    answer = receiver.open(path, method=method, data=body,
                           headers=zoho_headers(body, pairs=pairs))
    assert answer.status_code in (200, 202), answer.get_json()
    event_id: int = answer.get_json()["event_id"]
    events.process_event(database, client, settings, event_id)
    return event_id


def invoice_state(database: Database, invoice_id: str) -> tuple[str, dict[str, Any], int]:
    with database.session() as session:
        kind, document = session.execute(select(Invoice.document_kind, Invoice.document)
                                          .where(Invoice.zoho_id == invoice_id)).one()
        lines = session.scalar(select(func.count()).where(
            InvoiceLineItem.invoice_id == invoice_id))
    return kind, document, int(lines or 0)


def test_an_id_only_invoice_then_a_pass_keeps_its_line_items(
        receiver: FlaskClient, database: Database, zoho_settings: Settings,
        zoho_client: UnifiedZohoClient, sandbox: SandboxServer, books: Books) -> None:
    """The reproducer: the fetched invoice had its lines; it changed in Zoho; a pass ran.
    The lines stay, and once fetched behind a page they are the new version's."""
    invoices, org = BY_NAME["invoices"], zoho_settings.zoho_organization_id
    invoice_id = sorted(sandbox.admin.records("invoices"))[0]
    deliver(receiver, database, zoho_settings, zoho_client, "invoices",
            {"invoice": {"invoice_id": invoice_id}})
    kind, document, lines = invoice_state(database, invoice_id)
    assert (kind, lines) == ("full", len(document["line_items"]))
    assert lines > 0
    changed = books.call("PUT", f"/invoices/{invoice_id}",
                         json={"notes": "changed in Zoho"}).json()["invoice"]
    sync.sync_incremental(database, zoho_client, invoices, org)  # list rows only
    kind, document, still = invoice_state(database, invoice_id)
    # The list row is newer but poorer: the row awaits the full record, its detail
    # (the lines, the notes no list row carries) is the last full record's meanwhile.
    assert (kind, still) == ("summary", lines)
    assert document["line_items"]
    assert document["last_modified_time"] == changed["last_modified_time"]
    report = sync.sync_incremental(database, zoho_client, invoices, org, details=True)
    assert report.details >= 1
    kind, document, now = invoice_state(database, invoice_id)
    assert (kind, now, document["notes"]) == ("full", len(changed["line_items"]),
                                              "changed in Zoho")
    assert document["line_items"] == changed["line_items"]


def test_deletes_arrive_in_every_form_zoho_sends_them(
        receiver: FlaskClient, database: Database, zoho_settings: Settings,
        zoho_client: UnifiedZohoClient, sandbox: SandboxServer) -> None:
    ids = sorted(sandbox.admin.records("items"))[:3]
    sync.sync_full(database, zoho_client, BY_NAME["products"], zoho_settings.zoho_organization_id)
    sandbox.admin.delete("items", ids)
    by_method, by_param, paired = ids

    def deleted(item_id: str) -> bool:
        with database.session() as session:
            return session.scalar(select(Product.deleted_at).where(
                Product.zoho_id == item_id)) is not None

    def post(item_id: str, **options: Any) -> int:
        return deliver(receiver, database, zoho_settings, zoho_client, "products",
                       {"item": {"item_id": item_id}}, **options)

    post(by_method, method="DELETE")
    post(by_param, query=[("event", "deleted")])
    first = post(paired, query=[("event", "edited")])  # Edited, then Deleted, same body
    second = post(paired, query=[("event", "deleted")])
    assert first != second
    assert [deleted(item_id) for item_id in ids] == [True, True, True]


def test_a_deleted_action_for_a_record_zoho_still_has_never_deletes_it(
        receiver: FlaskClient, database: Database, zoho_settings: Settings,
        zoho_client: UnifiedZohoClient, sandbox: SandboxServer) -> None:
    item_id = sorted(sandbox.admin.records("items"))[0]
    deliver(receiver, database, zoho_settings, zoho_client, "products",
            {"item": {"item_id": item_id, "name": "from the webhook"}}, method="DELETE")
    with database.session() as session:
        name, deleted_at = session.execute(select(Product.name, Product.deleted_at)).one()
    assert deleted_at is None
    record = sandbox.state.store.get("items", item_id)
    assert record is not None
    assert name == record["name"]  # Zoho's, not the body's


def test_inactive_is_not_deleted(database: Database, zoho_settings: Settings,
                                 zoho_client: UnifiedZohoClient, sandbox: SandboxServer,
                                 books: Books) -> None:
    products = BY_NAME["products"]
    org = zoho_settings.zoho_organization_id
    sync.sync_full(database, zoho_client, products, org)
    item_id = sorted(sandbox.admin.records("items"))[0]
    assert books.call("POST", f"/items/{item_id}/inactive").json()["code"] == 0
    assert sync.reconcile(database, zoho_client, products, org).deleted == 0
    with database.session() as session:
        status, deleted_at = session.execute(select(Product.status, Product.deleted_at).where(
            Product.zoho_id == item_id)).one()
    assert (status, deleted_at) == ("inactive", None)


def test_stock_moved_without_a_stamp_is_picked_up_by_the_next_stock_pass(
        database: Database, settings: Settings,
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    sandbox = sandbox_factory(stock_moves_stamp=False)
    zoho_settings = sandbox_settings(settings, sandbox)
    client = UnifiedZohoClient(zoho_settings, database)
    stock, org = BY_NAME["stock"], zoho_settings.zoho_organization_id
    try:
        sync.sync_incremental(database, client, stock, org, details=True)
        item_id = sorted(sandbox.admin.records("items"))[0]
        stamp = sandbox.admin.records("items")[item_id]
        Books(sandbox).call("POST", "/inventoryadjustments", base=sandbox.inventory_base_url,
                            json={"reason": "count", "line_items": [
                                {"item_id": item_id, "quantity_adjusted": 7}]})
        assert sandbox.admin.records("items")[item_id] == stamp  # Zoho kept the stamp
        sync.sync_incremental(database, client, stock, org, details=True)
    finally:
        client.close()
    expected = sandbox.state.store.get("items", item_id)
    assert expected is not None
    with database.session() as session:
        levels = dict(session.execute(select(StockLevel.location_id, StockLevel.stock_on_hand)
                                      .where(StockLevel.zoho_id == item_id)).all())
    assert levels[""] == Decimal(str(expected["stock_on_hand"]))
    assert {location["location_id"]: Decimal(str(location["location_stock_on_hand"]))
            for location in expected["locations"]} == {
        location: quantity for location, quantity in levels.items() if location}
