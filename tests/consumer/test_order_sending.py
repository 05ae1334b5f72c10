"""Creating orders in the sandbox over HTTP, in process on both dialects: created once
whatever is lost or repeated, rejected with Zoho's word, parked for the day's quota."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tds import orders
from tds.config import Settings
from tds.db.models import SalesOrder, SyncQueueItem
from tds.db.session import Database
from tds.events import take_due_events
from tds.ledger import QueueService
from tds.sandbox import SandboxServer
from tds.zoho import UnifiedZohoClient, ZohoTransportError
from tests.fixtures.consumer import Consumer
from tests.fixtures.zoho import sandbox_settings

ORDERS = "/consumer/orders"


def order_body(sandbox: SandboxServer, **fields: Any) -> dict[str, Any]:
    store = sandbox.state.store
    customer = next(contact for contact in (store.get("contacts", cid)
                                            for cid in store.ids("contacts"))
                    if contact and contact["contact_type"] == "customer")
    return {"customer_id": customer["contact_id"],
            "line_items": [{"item_id": store.ids("items")[0], "quantity": 3, "rate": 12.5,
                            "description": "three of them"}], **fields}


def zoho_orders(sandbox: SandboxServer, reference: str) -> list[dict[str, Any]]:
    store = sandbox.state.store
    return [record for record in (store.get("salesorders", sid)
                                  for sid in store.ids("salesorders"))
            if record and record.get("reference_number") == reference]


def send(database: Database, client: UnifiedZohoClient, settings: Settings,
         ledger_id: int) -> str:
    """What the task does: send, and on a failure record it by the retry policy."""
    try:
        return orders.send_order(database, client, settings, ledger_id)
    except Exception as error:
        with database.session() as session:
            failure = orders.record_order_failure(session, settings, ledger_id, error)
        assert failure is not None
        return failure.status


def accept(consumer: Consumer, body: dict[str, Any], **headers: str) -> tuple[int, int]:
    answer = consumer.post(ORDERS, body, **headers)
    assert answer.status_code == 202, answer.get_json()
    ledger_id = consumer.publisher.sent[-1][1][0]
    return answer.get_json()["order"]["id"], ledger_id


def test_an_order_is_created_with_zohos_id_and_number(
        consumer: Consumer, database: Database, zoho_client: UnifiedZohoClient,
        sandbox: SandboxServer) -> None:
    order_id, ledger_id = accept(consumer, order_body(sandbox, notes="by noon"))
    assert send(database, zoho_client, consumer.settings, ledger_id) == "created"
    [stored] = zoho_orders(sandbox, f"TDS-{order_id}")
    assert stored["salesorder_number"] == "SO-00011"  # after the 10 generated ones
    assert (stored["total"], stored["notes"]) == (37.5, "by noon")
    assert stored["line_items"][0]["description"] == "three of them"
    read = consumer.get(f"{ORDERS}/{order_id}").get_json()
    assert (read["status"], read["salesorder_id"], read["salesorder_number"]) == (
        "created", stored["salesorder_id"], "SO-00011")
    assert (read["attempts"], read["total"], read["zoho_status"]) == (1, 37.5, "draft")
    assert send(database, zoho_client, consumer.settings, ledger_id) == "skipped"
    assert len(zoho_orders(sandbox, f"TDS-{order_id}")) == 1


def test_a_create_whose_answer_is_lost_is_found_not_made_again(
        consumer: Consumer, database: Database, zoho_client: UnifiedZohoClient,
        sandbox: SandboxServer) -> None:
    order_id, ledger_id = accept(consumer, order_body(sandbox, reference_number="WEB-42"))
    sandbox.admin.set_faults(drop_after_create=1)
    with pytest.raises(ZohoTransportError):
        orders.send_order(database, zoho_client, consumer.settings, ledger_id)
    with database.session() as session:
        failure = orders.record_order_failure(session, consumer.settings, ledger_id,
                                              ZohoTransportError("cut", maybe_sent=True))
    assert failure is not None
    assert failure.status == "failed"
    assert len(zoho_orders(sandbox, "WEB-42")) == 1  # Zoho stored it all the same
    assert consumer.get(f"{ORDERS}/{order_id}").get_json()["status"] == "pending"
    assert send(database, zoho_client, consumer.settings, ledger_id) == "created"
    [stored] = zoho_orders(sandbox, "WEB-42")
    read = consumer.get(f"{ORDERS}/{order_id}").get_json()
    assert (read["status"], read["salesorder_id"], read["attempts"]) == (
        "created", stored["salesorder_id"], 2)
    stats = sandbox.admin.stats()
    assert stats["endpoints"]["POST /books/v3/salesorders"] == 1


def test_a_foreign_order_with_our_reference_is_not_taken_for_ours(
        consumer: Consumer, database: Database, zoho_client: UnifiedZohoClient,
        sandbox: SandboxServer) -> None:
    body = order_body(sandbox, reference_number="SHARED-1")
    other_customer = next(cid for cid in sandbox.state.store.ids("contacts")
                          if cid != body["customer_id"])
    sandbox.state.store.create("salesorders", {"customer_id": other_customer,
                                               "reference_number": "SHARED-1"})
    sandbox.state.store.create("salesorders", {"customer_id": body["customer_id"],
                                               "reference_number": "SHARED-10"})
    _, ledger_id = accept(consumer, body)
    assert send(database, zoho_client, consumer.settings, ledger_id) == "created"
    ours = [so for so in zoho_orders(sandbox, "SHARED-1")
            if so["customer_id"] == body["customer_id"]]
    assert len(ours) == 1


@pytest.mark.parametrize("unknown", ["customer_id", "item_id"])
def test_an_unknown_customer_or_item_is_rejected_with_zohos_message(
        consumer: Consumer, database: Database, zoho_client: UnifiedZohoClient,
        sandbox: SandboxServer, unknown: str) -> None:
    body = order_body(sandbox)
    if unknown == "customer_id":
        body["customer_id"] = "999999999"
    else:
        body["line_items"][0]["item_id"] = "999999999"
    order_id, ledger_id = accept(consumer, body)
    assert send(database, zoho_client, consumer.settings, ledger_id) == "rejected"
    read = consumer.get(f"{ORDERS}/{order_id}").get_json()
    assert (read["status"], read["reason"]) == ("rejected", f"Invalid value passed for {unknown}")
    with database.session() as session:
        assert session.get(SyncQueueItem, ledger_id).status == "completed"  # type: ignore[union-attr]
    assert zoho_orders(sandbox, f"TDS-{order_id}") == []


def test_the_days_quota_makes_an_order_wait_never_fail(
        consumer_factory: Callable[..., Consumer], database: Database,
        sandbox_factory: Callable[..., SandboxServer], settings: Settings) -> None:
    sandbox = sandbox_factory(daily_limit=2)
    zoho = sandbox_settings(settings, sandbox)
    consumer = consumer_factory(**{key: getattr(zoho, key) for key in (
        "zoho_accounts_url", "zoho_api_base_url", "zoho_organization_id")})
    client = UnifiedZohoClient(zoho, database)
    try:
        _, first = accept(consumer, order_body(sandbox))
        assert send(database, client, zoho, first) == "created"  # a look-up and a create
        order_id, second = accept(consumer, order_body(sandbox, reference_number="LATE-1"))
        assert send(database, client, zoho, second) == "waiting"
    finally:
        client.close()
    read = consumer.get(f"{ORDERS}/{order_id}").get_json()
    assert read["status"] == "pending"
    assert "daily" in read["last_error"]
    with database.session() as session:
        item = session.get(SyncQueueItem, second)
        assert item is not None
        assert (item.status, item.attempts) == ("waiting", 0)  # no try spent


def test_an_order_whose_tries_are_spent_fails_and_can_be_requeued(
        consumer: Consumer, database: Database, zoho_client: UnifiedZohoClient,
        sandbox: SandboxServer) -> None:
    order_id, ledger_id = accept(consumer, order_body(sandbox))
    sandbox.admin.set_faults(error_rate=1.0)
    settings = consumer.settings.with_overrides(task_max_retries=1, zoho_max_attempts=1)
    assert send(database, zoho_client, settings, ledger_id) == "failed"
    assert send(database, zoho_client, settings, ledger_id) == "dead"
    read = consumer.get(f"{ORDERS}/{order_id}").get_json()
    assert read["status"] == "failed"
    assert "ZohoServerError" in read["reason"]
    sandbox.admin.set_faults(error_rate=0.0)
    with database.session() as session:
        assert QueueService.from_settings(session, settings).requeue_failed_item(ledger_id)
    assert send(database, zoho_client, settings, ledger_id) == "created"
    assert consumer.get(f"{ORDERS}/{order_id}").get_json()["status"] == "created"


def test_the_dispatcher_resends_an_order_whose_message_was_lost(
        consumer_factory: Callable[..., Consumer], database: Database) -> None:
    consumer = consumer_factory(sweeper_grace_seconds=0)
    consumer.publisher.down = True
    answer = consumer.post(ORDERS, {"customer_id": "1", "line_items": [
        {"item_id": "2", "quantity": 1, "rate": 1}]})
    with database.session() as session:
        due = take_due_events(session, consumer.settings)
        item = session.scalars(select(SyncQueueItem)).one()
        order = session.scalars(select(SalesOrder)).one()
    assert [(row.id, row.kind) for row in due] == [(item.id, "order")]
    assert order.id == answer.get_json()["order"]["id"]
