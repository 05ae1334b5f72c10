"""Events and syncs through a real worker, Redis, Postgres and the sandbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tds.db.models import Product
from tds.mapping import parse_zoho_time
from tests.fixtures.stack import StackFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis]


def test_webhooks_become_rows_for_every_entity(stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.start_worker()
    changed = {entity: stack.sandbox.admin.change(entity, 3)
               for entity in ("items", "contacts", "invoices", "bills", "creditnotes",
                              "pricebooks")}
    stack.sandbox.admin.change("inventory_adjustments", 2)
    tables = {"items": "products", "invoices": "invoices", "bills": "bills",
              "creditnotes": "credit_notes", "pricebooks": "prices"}

    def synced() -> bool:
        for entity, table in tables.items():
            stored = stack.stored(table)
            if any(stored.get(c["id"]) != parse_zoho_time(c["last_modified_time"])
                   for c in changed[entity]):
                return False
        # Stock follows the adjustments: the items they moved are fetched.
        return len(stack.stored("stock")) >= 1

    stack.wait_for(synced, "changed records in the tables")
    stack.wait_for(lambda: set(stack.inbox_statuses()) == {"processed"},
                   "every inbox event processed")


def test_out_of_order_events_keep_the_newer_and_partial_ones_fetch(
        stack_factory: StackFactory) -> None:
    stack = stack_factory()
    item_id = next(iter(stack.sandbox.admin.records("items")))
    record = stack.sandbox.state.store.get("items", item_id)
    assert record is not None
    newer = {**record, "name": "newer", "last_modified_time": "2030-01-01T00:00:10+0000"}
    older = {**record, "name": "older", "last_modified_time": "2030-01-01T00:00:05+0000"}
    stack.event("products", item_id, newer)
    stack.event("products", item_id, older)
    other = sorted(stack.sandbox.admin.records("items"))[-1]
    stack.event("products", other, {"item_id": other})  # partial: fetched from Zoho
    stack.start_worker()
    stack.wait_for(lambda: stack.inbox_statuses() == {"processed": 3}, "three events")
    with stack.database.session() as session:
        names = dict(session.execute(select(Product.zoho_id, Product.name)).all())
    assert names[item_id] == "newer"
    fetched = stack.sandbox.state.store.get("items", other)
    assert fetched is not None
    assert names[other] == fetched["name"]


def test_syncs_and_events_converge_through_a_429_storm_and_5xx_errors(
        stack_factory: StackFactory) -> None:
    stack = stack_factory(items=600, invoices=300, rate_limit_per_min=4, time_factor=60,
                          retry_after_window=True,
                          env={"TDS_TASK_MAX_RETRIES": "100"})
    stack.sandbox.admin.set_faults(error_rate=0.2)
    for item_id in sorted(stack.sandbox.admin.records("items"))[:40]:
        stack.event("products", item_id, {"item_id": item_id})  # each one is a fetch
    stack.start_worker()
    for entity in ("products", "invoices"):
        stack.send("tds.maintenance.sync", entity, "full")
    stack.wait_for(lambda: stack.stored("products") == stack.expected("items")
                   and stack.stored("invoices") == stack.expected("invoices")
                   and stack.inbox_statuses() == {"processed": 40},
                   "products and invoices equal to the sandbox's, every event processed")
    stats = stack.sandbox.admin.stats()
    assert stats["rate_limited"] > 0, stats
    assert stats["server_errors"] > 0, stats


def test_an_expired_token_mid_sync_is_refreshed(stack_factory: StackFactory) -> None:
    stack = stack_factory(items=2000, latency_ms=20)
    stack.start_worker()
    stack.send("tds.maintenance.sync", "products", "full")
    stack.wait_for(lambda: len(stack.stored("products")) > 0, "the first page")
    stack.sandbox.admin.set_faults(expire_tokens=True, latency_ms=0)
    stack.wait_for(lambda: stack.stored("products") == stack.expected("items"),
                   "every product")
    assert stack.sandbox.admin.stats()["token_grants"] >= 2


def test_reconcile_marks_records_deleted_in_zoho(stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.start_worker()
    stack.send("tds.maintenance.sync", "invoices", "full")
    stack.wait_for(lambda: stack.stored("invoices") == stack.expected("invoices"), "invoices")
    gone = sorted(stack.sandbox.admin.records("invoices"))[:3]
    stack.sandbox.admin.delete("invoices", gone)
    stack.send("tds.maintenance.sync", "invoices", "reconcile")
    stack.wait_for(lambda: stack.stored("invoices") == stack.expected("invoices"),
                   "deleted invoices soft-deleted")
