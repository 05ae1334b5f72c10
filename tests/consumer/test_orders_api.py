"""POST /consumer/orders and the order reads, in process on both dialects: validation
per field, bounds, idempotency (repeated, conflicting and concurrent requests)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tds.db.models import Customer, Product, SalesOrder, SyncQueueItem
from tds.db.session import Database
from tests.fixtures.consumer import AUTH, Consumer, ConsumerFactory, together
from workers import names

ORDERS = "/consumer/orders"


def body(**fields: Any) -> dict[str, Any]:
    return {"customer_id": "460000000200001",
            "line_items": [{"item_id": "460000000100001", "quantity": 2, "rate": 9.5}],
            **fields}


def count_orders(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(SalesOrder)) or 0


def test_an_order_is_stored_pending_and_its_task_sent(consumer: Consumer,
                                                      database: Database) -> None:
    answer = consumer.post(ORDERS, body(notes="Leave at the door", date="2026-12-01"))
    assert answer.status_code == 202
    order = answer.get_json()["order"]
    assert answer.headers["Location"] == f"{ORDERS}/{order['id']}"
    assert (order["status"], order["reference_number"], order["attempts"]) == (
        "pending", f"TDS-{order['id']}", 0)
    assert order["line_items"] == [{"item_id": "460000000100001", "quantity": 2.0,
                                    "rate": 9.5}]
    with database.session() as session:
        item = session.scalars(select(SyncQueueItem)).one()
    assert (item.kind, item.status, item.payload) == ("order", "pending",
                                                      {"order_id": order["id"]})
    assert consumer.publisher.sent == [(names.CREATE_ORDER, [item.id], "tds.orders")]
    read = consumer.get(answer.headers["Location"])
    shown = read.get_json()
    assert (read.status_code, shown["status"], shown["notes"], shown["date"]) == (
        200, "pending", "Leave at the door", "2026-12-01")


@pytest.mark.parametrize(("document", "field"), [
    ({"line_items": [{"item_id": "1", "quantity": 1, "rate": 1}]}, "customer_id"),
    (body(local_customer_id=4), "customer_id"),
    (body(customer_id="C-1"), "customer_id"),
    (body(line_items=[]), "line_items"),
    (body(line_items="many"), "line_items"),
    (body(line_items=[{"item_id": "1", "quantity": 0, "rate": 1}]), "line_items.0.quantity"),
    (body(line_items=[{"item_id": "1", "quantity": -3, "rate": 1}]), "line_items.0.quantity"),
    (body(line_items=[{"item_id": "1", "quantity": 1, "rate": -0.01}]), "line_items.0.rate"),
    (body(line_items=[{"item_id": "1", "quantity": True, "rate": 1}]), "line_items.0.quantity"),
    (body(line_items=[{"item_id": "1", "quantity": 1}]), "line_items.0.rate"),
    (body(line_items=[{"quantity": 1, "rate": 1}]), "line_items.0.item_id"),
    (body(line_items=[{"item_id": "1", "quantity": 1, "rate": 1, "price": 2}]),
     "line_items.0.price"),
    (body(line_items=[{"item_id": "1", "quantity": 1, "rate": 1}] * 101), "line_items"),
    (body(reference_number="x" * 51), "reference_number"),
    (body(reference_number="TDS-7"), "reference_number"),
    (body(reference_number="tab\there"), "reference_number"),
    (body(date="31/12/2026"), "date"),
    (body(notes="n" * 5001), "notes"),
    (body(discount=5), "discount"),
    (body(local_customer_id=0, customer_id=None), "local_customer_id"),
])
def test_invalid_orders_are_400_with_a_message_per_field(
        consumer: Consumer, database: Database, document: dict[str, Any], field: str) -> None:
    document = {key: value for key, value in document.items() if value is not None}
    answer = consumer.post(ORDERS, document)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"] == "validation_failed"
    found: Any = answer.get_json()["fields"]
    for part in field.split("."):
        found = found[part]
    assert found
    assert all(isinstance(message, str) for message in found)
    assert count_orders(database) == 0
    assert consumer.publisher.sent == []


@pytest.mark.parametrize(("raw", "content_type", "status"), [
    (b"{", "application/json", 400),
    (b"", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'{"customer_id": "1", "customer_id": "2"}', "application/json", 400),
    (b'{"a": NaN}', "application/json", 400),
    (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"customer_id=1", "application/x-www-form-urlencoded", 415),
    (json.dumps(body()).encode(), "text/plain", 415),
    (json.dumps(body()).encode(), "", 415),
])
def test_malformed_bodies(consumer: Consumer, database: Database, raw: bytes,
                          content_type: str, status: int) -> None:
    answer = consumer.client.post(ORDERS, data=raw,
                                  headers={**AUTH, "Content-Type": content_type})
    assert answer.status_code == status
    assert answer.get_json()["error"] in {"bad_request", "validation_failed",
                                          "unsupported_media_type"}
    assert answer.get_json()["message"]
    assert count_orders(database) == 0


def test_an_oversized_body_is_413(consumer_factory: ConsumerFactory,
                                  database: Database) -> None:
    consumer = consumer_factory(webhook_max_bytes=2048)
    big = body(notes="n" * 3000)
    answer = consumer.post(ORDERS, big)
    assert (answer.status_code, answer.get_json()["error"]) == (413, "payload_too_large")
    assert "TDS_WEBHOOK_MAX_BYTES" in answer.get_json()["message"]
    chunked = consumer.client.post(ORDERS, input_stream=io.BytesIO(json.dumps(big).encode()),
                                   headers={**AUTH, "Content-Type": "application/json"},
                                   environ_overrides={"wsgi.input_terminated": True})
    assert chunked.status_code == 413
    assert count_orders(database) == 0


@pytest.mark.parametrize("key", ["", "x" * 129, "with space", "tab\tkey", "é"])
def test_a_malformed_idempotency_key_is_400(consumer: Consumer, key: str) -> None:
    answer = consumer.client.post(ORDERS, json=body(),
                                  headers={**AUTH, "Idempotency-Key": key.encode().decode(
                                      "latin-1")})
    assert (answer.status_code, answer.get_json()["error"]) == (400, "bad_request")
    assert "Idempotency-Key" in answer.get_json()["message"]


def test_a_repeated_request_gets_the_same_order(consumer: Consumer,
                                                database: Database) -> None:
    answers = [consumer.post(ORDERS, body(), **{"Idempotency-Key": "abc-1"}) for _ in range(3)]
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.get_json()["order"]["id"] for answer in answers}) == 1
    assert [answer.headers.get("Idempotent-Replayed") for answer in answers] == [
        None, "true", "true"]
    assert count_orders(database) == 1
    assert len(consumer.publisher.sent) == 1  # a replay sends nothing


def test_the_reference_makes_a_repeat_safe_without_a_key(consumer: Consumer,
                                                         database: Database) -> None:
    first = consumer.post(ORDERS, body(reference_number="PO-77"))
    again = consumer.post(ORDERS, body(reference_number="PO-77"))
    keyed = consumer.post(ORDERS, body(reference_number="PO-77"), **{"Idempotency-Key": "k"})
    ids = {answer.get_json()["order"]["id"] for answer in (first, again, keyed)}
    assert len(ids) == 1
    assert first.get_json()["order"]["reference_number"] == "PO-77"
    assert count_orders(database) == 1


@pytest.mark.parametrize(("second", "headers"), [
    (body(line_items=[{"item_id": "460000000100001", "quantity": 3, "rate": 9.5}]),
     {"Idempotency-Key": "abc-2"}),
    (body(reference_number="PO-1", notes="changed"), {}),
    (body(reference_number="PO-1"), {"Idempotency-Key": "another"}),
])
def test_a_key_or_reference_for_another_order_is_409(
        consumer: Consumer, database: Database, second: dict[str, Any],
        headers: dict[str, str]) -> None:
    consumer.post(ORDERS, body(reference_number="PO-1"), **{"Idempotency-Key": "abc-2"})
    answer = consumer.post(ORDERS, second, **headers)
    assert (answer.status_code, answer.get_json()["error"]) == (409, "conflict")
    assert "order" in answer.get_json()["message"]
    assert count_orders(database) == 1


def test_ten_concurrent_requests_store_one_order(consumer: Consumer,
                                                 database: Database) -> None:
    client = consumer.client.application.test_client
    answers = together(10, lambda: client().post(ORDERS, json=body(), headers={
        **AUTH, "Idempotency-Key": "concurrent-1"}))
    assert [answer.status_code for answer in answers] == [202] * 10
    assert len({answer.get_json()["order"]["id"] for answer in answers}) == 1
    assert sum(answer.headers.get("Idempotent-Replayed") is None for answer in answers) == 1
    assert count_orders(database) == 1
    assert len(consumer.publisher.sent) == 1


def test_local_ids_name_synced_customers_and_products(consumer: Consumer,
                                                      database: Database) -> None:
    org = consumer.settings.zoho_organization_id
    with database.session() as session:
        customer = Customer(organization_id=org, zoho_id="460000000200009", document={})
        product = Product(organization_id=org, zoho_id="460000000100009", document={})
        session.add_all([customer, product])
        session.flush()
        local_customer, local_product = customer.id, product.id
    answer = consumer.post(ORDERS, {"local_customer_id": local_customer, "line_items": [
        {"local_product_id": local_product, "quantity": 1, "rate": 1}]})
    assert answer.status_code == 202
    assert answer.get_json()["order"]["customer_id"] == "460000000200009"
    assert answer.get_json()["order"]["line_items"][0]["item_id"] == "460000000100009"
    unknown = consumer.post(ORDERS, {"local_customer_id": 999999, "line_items": [
        {"local_product_id": 999999, "quantity": 1, "rate": 1}]})
    assert unknown.status_code == 400
    assert "sync customers first" in unknown.get_json()["fields"]["local_customer_id"][0]
    assert "sync products first" in unknown.get_json()["fields"]["line_items"]["0"][
        "local_product_id"][0]


def test_a_broker_that_is_down_leaves_the_order_to_the_dispatcher(
        consumer: Consumer, database: Database) -> None:
    consumer.publisher.down = True
    answer = consumer.post(ORDERS, body())
    assert answer.status_code == 202
    with database.session() as session:
        item = session.scalars(select(SyncQueueItem)).one()
    assert item.status == "pending"
    assert item.next_retry_at is not None  # due for the dispatcher after the grace period


def test_reading_orders(consumer: Consumer) -> None:
    ids = [consumer.post(ORDERS, body(reference_number=f"R-{n}")).get_json()["order"]["id"]
           for n in range(3)]
    missing = consumer.get(f"{ORDERS}/{max(ids) + 100}")
    assert (missing.status_code, missing.get_json()["error"]) == (404, "not_found")
    assert consumer.get(f"{ORDERS}/abc").status_code == 404
    listed = consumer.get(f"{ORDERS}?status=pending&limit=2").get_json()
    assert [order["id"] for order in listed["orders"]] == ids[:2]
    assert listed["next_after_id"] == ids[1]
    rest = consumer.get(f"{ORDERS}?after_id={ids[1]}&limit=2").get_json()
    assert ([order["id"] for order in rest["orders"]], rest["next_after_id"]) == (ids[2:], None)
    by_reference = consumer.get(f"{ORDERS}?reference_number=R-1").get_json()["orders"]
    assert [order["id"] for order in by_reference] == [ids[1]]
    assert consumer.get(f"{ORDERS}?status=created").get_json()["orders"] == []
    since = consumer.get(f"{ORDERS}?created_since=2000-01-01T00:00:00%2B00:00").get_json()
    assert len(since["orders"]) == 3
    assert consumer.get(f"{ORDERS}?created_since=2999-01-01T00:00:00Z").get_json()["orders"] == []
    for bad in ("status=lost", "limit=0", "limit=201", "created_since=yesterday",
                "created_since=2026-01-01T00:00:00", "colour=red", "reference_number=a%00b",
                "after_id=9223372036854775808"):
        answer = consumer.get(f"{ORDERS}?{bad}")
        assert (answer.status_code, answer.get_json()["error"]) == (400, "validation_failed"), bad
