"""Orders and sync requests through the consumer API over HTTP, a real worker, Redis,
Postgres and the sandbox: one Zoho order per order, whatever is repeated or lost."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.fixtures.consumer import together
from tests.fixtures.services import TEST_API_KEY
from tests.fixtures.stack import Stack, StackFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis]
AUTH = {"X-API-Key": TEST_API_KEY}


def order_body(stack: Stack, **fields: Any) -> dict[str, Any]:
    store = stack.sandbox.state.store
    customer = next(cid for cid in store.ids("contacts")
                    if (store.get("contacts", cid) or {}).get("contact_type") == "customer")
    return {"customer_id": customer,
            "line_items": [{"item_id": store.ids("items")[0], "quantity": 2, "rate": 5}],
            **fields}


def zoho_orders(stack: Stack, reference: str) -> list[dict[str, Any]]:
    store = stack.sandbox.state.store
    return [record for record in (store.get("salesorders", sid)
                                  for sid in store.ids("salesorders"))
            if record and record.get("reference_number") == reference]


def place(stack: Stack, body: dict[str, Any], **headers: str) -> requests.Response:
    return requests.post(f"{stack.api_url()}/orders", json=body, headers={**AUTH, **headers},
                         timeout=30)


def settled(stack: Stack, order_id: int) -> dict[str, Any]:
    """The order once it is no longer pending."""
    found: dict[str, Any] = {}

    def done() -> bool:
        found.update(requests.get(f"{stack.api_url()}/orders/{order_id}", headers=AUTH,
                                  timeout=30).json())
        return bool(found["status"] != "pending")

    stack.wait_for(done, f"order {order_id} settled", every=stack.dispatch)
    return found


def test_an_order_is_created_in_zoho(stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.start_worker()
    answer = place(stack, order_body(stack))
    assert answer.status_code == 202
    order = settled(stack, answer.json()["order"]["id"])
    [stored] = zoho_orders(stack, order["reference_number"])
    assert (order["status"], order["salesorder_id"], order["salesorder_number"]) == (
        "created", stored["salesorder_id"], stored["salesorder_number"])
    assert stored["salesorder_number"].startswith("SO-")
    assert order["total"] == stored["total"] == 10.0


def test_repeated_and_concurrent_requests_make_one_zoho_order(
        stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.start_worker()
    body = order_body(stack, reference_number="WEB-3X")
    sequential = [place(stack, body, **{"Idempotency-Key": "three-times"}) for _ in range(3)]
    answers = together(10, lambda: place(stack, order_body(stack, reference_number="WEB-10X"),
                                         **{"Idempotency-Key": "ten-at-once"}))
    for group, reference in ((sequential, "WEB-3X"), (answers, "WEB-10X")):
        assert {answer.status_code for answer in group} == {202}
        ids = {answer.json()["order"]["id"] for answer in group}
        assert len(ids) == 1
        assert settled(stack, ids.pop())["status"] == "created"
        assert len(zoho_orders(stack, reference)) == 1


def test_a_create_whose_answer_is_lost_makes_one_zoho_order(
        stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.sandbox.admin.set_faults(drop_after_create=1)
    stack.start_worker()
    answer = place(stack, order_body(stack, reference_number="LOST-ANSWER"))
    order = settled(stack, answer.json()["order"]["id"])
    [stored] = zoho_orders(stack, "LOST-ANSWER")
    assert (order["status"], order["salesorder_id"]) == ("created", stored["salesorder_id"])
    assert order["attempts"] == 2  # the lost answer, then the look-up that found it
    stats = stack.sandbox.admin.stats()
    assert stats["create_answers_lost"] == 1
    assert stats["endpoints"]["POST /books/v3/salesorders"] == 1


def test_an_unknown_customer_is_rejected(stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.start_worker()
    answer = place(stack, order_body(stack, customer_id="123456789"))
    order = settled(stack, answer.json()["order"]["id"])
    assert (order["status"], order["reason"]) == ("rejected",
                                                  "Invalid value passed for customer_id")
    assert order["salesorder_id"] is None


def test_a_second_inventory_sync_while_one_runs_gets_the_first(
        stack_factory: StackFactory) -> None:
    stack = stack_factory(items=300, latency_ms=50, rate_limit_per_min=1_000_000)
    stack.start_worker()
    url = f"{stack.api_url()}/sync/inventory?full=true"
    first = requests.post(url, headers=AUTH, timeout=30).json()["passes"]
    second = requests.post(url, headers=AUTH, timeout=30).json()["passes"]
    assert [p["pass_id"] for p in second] == [p["pass_id"] for p in first]
    assert [p["joined"] for p in first + second] == [False, False, True, True]

    def finished() -> bool:
        status = requests.get(f"{stack.api_url()}/sync/status", headers=AUTH,
                              timeout=30).json()["entities"]
        return all(status[name]["runs"].get("full", {}).get("outcome") == "ok"
                   for name in ("stock", "prices", "products"))

    stack.wait_for(finished, "the stock and price passes")
    assert stack.stored("products") == stack.expected("items")
    again = requests.post(url, headers=AUTH, timeout=30).json()["passes"]
    assert all(not p["joined"] for p in again)  # the first ones are done: new passes
