"""Nothing is lost or doubled when a worker is killed, Redis is flushed or an event
is poison."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import func, select

from tds.cli import main
from tds.db.models import SyncQueueItem
from tests.fixtures.stack import Stack, StackFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis]


def ledger(stack: Stack) -> dict[str, int]:
    return stack.ledger()


def emit_changes(stack: Stack, rounds: int) -> int:
    per_round = len(stack.sandbox.admin.records("items"))
    for _ in range(rounds):
        stack.sandbox.admin.change("items", per_round)
    return rounds * per_round


def all_applied(stack: Stack, events: int) -> bool:
    return (stack.inbox_statuses() == {"processed": events}
            and ledger(stack) == {"completed": events}
            and stack.stored("products") == stack.expected("items"))


def assert_exactly_once(stack: Stack, events: int) -> None:
    stats = stack.sandbox.admin.stats()
    assert stats["webhooks_sent"] == events
    with stack.database.session() as session:
        per_event = session.execute(select(func.count(), func.count(
            SyncQueueItem.inbox_event_id.distinct()))).one()
    assert tuple(per_event) == (events, events)


@pytest.mark.slow
def test_kill_9_of_a_worker_mid_stream_loses_and_doubles_nothing(
        stack_factory: StackFactory) -> None:
    stack = stack_factory(items=200)
    worker = stack.start_worker()
    events = emit_changes(stack, 10)
    stack.wait_for(lambda: stack.inbox_statuses().get("processed", 0) > 300, "some progress")
    worker.kill()
    stack.start_worker()
    assert stack.sandbox.admin.flush_webhooks(60)
    stack.wait_for(lambda: all_applied(stack, events), "all 2,000 events applied once",
                   timeout=180, every=_every_second(stack.dispatch))
    assert_exactly_once(stack, events)


@pytest.mark.slow
def test_flushing_redis_mid_stream_loses_nothing(stack_factory: StackFactory,
                                                 redis_url: str) -> None:
    stack = stack_factory(items=200)
    stack.start_worker()
    events = emit_changes(stack, 3)
    stack.wait_for(lambda: stack.inbox_statuses().get("processed", 0) > 100, "some progress")
    redis.Redis.from_url(redis_url).flushdb()
    assert stack.sandbox.admin.flush_webhooks(60)
    stack.wait_for(lambda: all_applied(stack, events), "every event applied after the flush",
                   timeout=180, every=_every_second(stack.dispatch))
    assert_exactly_once(stack, events)


def test_a_poison_event_goes_dead_and_requeue_brings_it_back(
        stack_factory: StackFactory) -> None:
    stack = stack_factory()
    stack.sandbox.admin.set_faults(error_rate=1.0)
    item_id = next(iter(stack.sandbox.admin.records("items")))
    stack.start_worker()
    stack.event("products", item_id, {"item_id": item_id})
    stack.wait_for(lambda: ledger(stack) == {"dead": 1}, "the event dead after its retries")
    assert stack.inbox_statuses() == {"dead": 1}
    with stack.database.session() as session:
        assert session.scalars(select(SyncQueueItem.attempts)).one() == 4  # 1 + 3 retries
    stack.sandbox.admin.set_faults(error_rate=0.0)
    result = CliRunner().invoke(main, ["queue", "requeue", "--all-dead"], obj=stack.settings)
    assert result.exit_code == 0, result.output
    stack.wait_for(lambda: ledger(stack) == {"completed": 1}, "the requeued event applied",
                   every=_every_second(stack.dispatch))
    assert item_id in stack.stored("products")


def test_a_restarted_worker_takes_back_its_killed_predecessors_claims_at_once(
        stack_factory: StackFactory) -> None:
    # No beat and no dispatch here: without the release at start, the claims would
    # come back only when their lease (300 s) lapsed.
    stack = stack_factory()
    first, *item_ids = sorted(stack.sandbox.admin.records("items"))[:7]
    worker = stack.start_worker()
    stack.event("products", first, {"item_id": first})  # the token is got and kept
    stack.wait_for(lambda: stack.ledger() == {"completed": 1}, "a first event applied")
    stack.sandbox.admin.set_faults(latency_ms=4000)
    for item_id in item_ids:
        stack.event("products", item_id, {"item_id": item_id})
    stack.wait_for(lambda: stack.ledger() == {"completed": 1, "processing": 6},
                   "six events claimed")
    worker.kill()
    stack.sandbox.admin.set_faults(latency_ms=0)
    started = time.monotonic()
    stack.start_worker()
    stack.wait_for(lambda: stack.ledger() == {"completed": 7}, "the six events applied",
                   timeout=120)
    print(f"claims of the killed worker applied {time.monotonic() - started:.1f}s after "
          "the new worker started")
    assert set(item_ids) <= set(stack.stored("products"))
    with stack.database.session() as session:
        assert sorted(session.scalars(select(SyncQueueItem.attempts))) == [1] + [2] * 6


def _every_second(action: Callable[[], None]) -> Callable[[], None]:
    last = [0.0]

    def maybe() -> None:
        if time.monotonic() - last[0] >= 1.0:
            last[0] = time.monotonic()
            action()

    return maybe
