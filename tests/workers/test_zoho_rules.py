"""Zoho's rules through a real worker, Redis, Postgres and the sandbox: Deleted workflow
webhooks soft-delete, and the day's quota parks events until Zoho's reset, never
killing one."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tds.db.models import Product, SyncQueueItem
from tests.fixtures.stack import Stack, StackFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis]


def soft_deleted(stack: Stack) -> set[str]:
    with stack.database.session() as session:
        return set(session.scalars(select(Product.zoho_id)
                                   .where(Product.deleted_at.is_not(None))))


@pytest.mark.parametrize("style", ["method", "param"])
def test_deleted_workflow_webhooks_soft_delete(stack_factory: StackFactory, style: str) -> None:
    stack = stack_factory(deleted_webhook=style)
    stack.start_worker()
    stack.send("tds.maintenance.sync", "products", "full")
    stack.wait_for(lambda: stack.stored("products") == stack.expected("items"), "products")
    gone = sorted(stack.sandbox.admin.records("items"))[:2]
    stack.sandbox.admin.delete("items", gone, webhook=True)
    assert stack.sandbox.admin.flush_webhooks()
    stack.wait_for(lambda: soft_deleted(stack) == set(gone), f"deletes sent by {style}")
    assert stack.inbox_statuses() == {"processed": 2}


def test_the_days_quota_parks_events_until_zohos_reset(stack_factory: StackFactory) -> None:
    # Three calls a day, and a day that lasts 12 s (the sandbox's clock runs fast).
    stack = stack_factory(daily_limit=3, time_factor=7200)
    ids = sorted(stack.sandbox.admin.records("items"))[:5]
    started = time.monotonic()
    for item_id in ids:
        stack.event("products", item_id, {"item_id": item_id})  # each needs a fetch
    stack.start_worker()
    stack.wait_for(lambda: ledger_statuses(stack).get("waiting", 0) > 0,
                   "events waiting for the quota's reset")
    stack.wait_for(lambda: stack.inbox_statuses() == {"processed": 5},
                   "every event processed after the reset", timeout=120,
                   every=lambda: stack.dispatch() if time.monotonic() - started > 5 else None)
    assert "dead" not in ledger_statuses(stack)
    assert set(ids) <= set(stack.stored("products"))
    # Zoho's headers said none remain: calls stopped here, not at Zoho's 429.
    assert stack.sandbox.admin.stats().get("rate_limited_daily", 0) <= 1


def ledger_statuses(stack: Stack) -> dict[str, int]:
    with stack.database.session() as session:
        return dict(session.execute(select(SyncQueueItem.status, func.count())
                                    .group_by(SyncQueueItem.status)).all())
