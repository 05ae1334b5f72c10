"""Applying one event's record: written as sent, fetched, deleted, children replaced."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tds import events
from tds.db.models import DocumentKind, PriceListItem, Product, StockLevel
from tds.db.session import Database
from tds.entities import BY_NAME, UnusableDocumentError
from tests.fixtures.zoho import ORG, FakeZoho


def item(item_id: str, modified: str, name: str = "Bolt", stock: int = 5) -> dict[str, Any]:
    return {"item_id": item_id, "name": name, "rate": 1.1, "sku": f"SKU-{item_id}",
            "stock_on_hand": stock, "available_stock": stock,
            "last_modified_time": f"2024-01-01T00:00:{modified}+0000"}


def live_products(database: Database, live: bool = True) -> list[str]:
    with database.session() as session:
        query = select(Product.zoho_id)
        if live:
            query = query.where(Product.deleted_at.is_(None))
        return list(session.scalars(query))


def apply(database: Database, zoho: FakeZoho, entity: str, record: dict[str, Any],
          zoho_id: str) -> events.EventOutcome:
    fetched = events.fetch_event(zoho, BY_NAME[entity], record, zoho_id)
    with database.session() as session:
        return events.write_event(session, BY_NAME[entity], ORG, fetched)


def test_a_complete_webhook_is_written_without_calling_zoho(database: Database) -> None:
    zoho = FakeZoho()
    assert apply(database, zoho, "products", item("1", "05"), "1").written == 1
    assert zoho.calls == []
    assert live_products(database) == ["1"]


def test_a_partial_webhook_fetches_the_record(database: Database) -> None:
    zoho = FakeZoho({"/items": [item("1", "05", name="Fetched")]})
    result = apply(database, zoho, "products", {"item_id": "1", "rate": 3}, "1")
    assert (result.written, zoho.calls) == (1, ["/items/1"])
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
    assert live_products(database) == []
    assert live_products(database, live=False) == ["1"]


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


def test_a_price_list_replaces_its_items_unless_it_is_stale(database: Database) -> None:
    zoho = FakeZoho()
    apply(database, zoho, "prices", pricebook("02", {"a": 1.5, "b": 2}), "P1")
    apply(database, zoho, "prices", pricebook("05", {"b": 2.25, "c": 3}), "P1")
    apply(database, zoho, "prices", pricebook("03", {"z": 9}), "P1")  # stale
    with database.session() as session:
        rates = dict(session.execute(
            select(PriceListItem.item_id, PriceListItem.pricebook_rate)).all())
    assert rates == {"b": Decimal("2.25"), "c": Decimal(3)}


def test_a_price_list_is_read_through_bulkfetch_and_its_items_path_never_a_get(
        database: Database) -> None:
    listed = {"pricebook_id": "P1", "name": "Trade",
              "last_modified_time": "2024-01-01T00:00:07+0000"}
    zoho = FakeZoho({"/pricebooks/bulkfetch": [listed], "/pricebooks/items": [
        {"pricebook_id": "P1", "item_id": "a", "pricebook_rate": 4},
        {"pricebook_id": "P2", "item_id": "x", "pricebook_rate": 9}]})
    assert apply(database, zoho, "prices", {"pricebook_id": "P1"}, "P1").written == 1
    assert zoho.calls == ["list /pricebooks/bulkfetch", "list /pricebooks/items"]
    with database.session() as session:
        assert dict(session.execute(select(PriceListItem.item_id,
                                           PriceListItem.pricebook_rate)).all()) == {
            "a": Decimal(4)}


def test_a_deleted_action_asks_zoho_and_deletes_only_on_its_word(database: Database) -> None:
    apply(database, FakeZoho(), "products", item("1", "01"), "1")
    still_there = FakeZoho({"/items": [item("1", "02", name="Alive")]})
    outcome = apply_deleted(database, still_there, item("1", "09", name="Never written"))
    assert (outcome.written, outcome.deleted) == (1, 0)
    with database.session() as session:
        assert session.scalars(select(Product.name)).one() == "Alive"
    assert apply_deleted(database, FakeZoho(), {"item_id": "1"}).deleted == 1
    assert live_products(database) == []


def apply_deleted(database: Database, zoho: FakeZoho,
                  record: dict[str, Any]) -> events.EventOutcome:
    fetched = events.fetch_event(zoho, BY_NAME["products"], record, "1", deleted=True)
    with database.session() as session:
        return events.write_event(session, BY_NAME["products"], ORG, fetched)


def test_a_record_that_does_not_read_cleanly_is_fetched(database: Database) -> None:
    zoho = FakeZoho({"/items": [item("1", "02", name="From Zoho")]})
    sent = {**item("1", "01"), "rate": "twelve", "last_modified_time": "18 Nov 2023, 02:02 AM"}
    assert apply(database, zoho, "products", sent, "1").written == 1
    assert zoho.calls == ["/items/1"]
    with database.session() as session:
        assert session.scalars(select(Product.name)).one() == "From Zoho"


def test_a_field_that_does_not_fit_its_column_is_left_empty_never_fatal(
        database: Database, caplog: pytest.LogCaptureFixture) -> None:
    odd = {**item("1", "01"), "rate": "1e30", "sku": "S" * 500}
    zoho = FakeZoho({"/items": [odd]})
    assert apply(database, zoho, "products", {"item_id": "1"}, "1").written == 1
    with database.session() as session:
        product = session.scalars(select(Product)).one()
        assert (product.rate, product.sku) == (None, "S" * 128)
        assert product.document["rate"] == "1e30"
    assert any(getattr(record, "field", None) == "rate"
               and "31 digits" in getattr(record, "problem", "") for record in caplog.records)


def test_a_document_without_an_id_is_an_error_for_an_event(database: Database) -> None:
    fetched = events.FetchedEvent([], DocumentKind.SUMMARY, [{"name": "no id"}], [])
    with pytest.raises(UnusableDocumentError), database.session() as session:
        events.write_event(session, BY_NAME["products"], ORG, fetched)


