"""QueueService over tds_sync_queue, on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update

from tds.db.models import InboxEvent, SyncQueueItem
from tds.db.session import Database
from tds.ledger import HEALTH_SQL, QueueService
from tds.retry import RetryPolicy
from tests.fixtures.zoho import add_event


def new_item(database: Database, policy: RetryPolicy | None = None,
             grace_seconds: float = 60.0) -> int:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    with database.session() as session:
        event = session.get(InboxEvent, event_id)
        assert event is not None
        return QueueService(session, policy=policy,
                            grace_seconds=grace_seconds).ensure_event_item(event)


def item(database: Database, item_id: int) -> SyncQueueItem:
    with database.session() as session:
        found = session.get(SyncQueueItem, item_id)
        assert found is not None
        return found


def test_an_event_has_one_ledger_row_however_often_it_is_ensured(database: Database) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    with database.session() as session:
        event = session.get(InboxEvent, event_id)
        assert event is not None
        first = QueueService(session).ensure_event_item(event)
        assert QueueService(session).ensure_event_item(event) == first
    with database.session() as session:
        assert QueueService(session).get_queue_stats()["pending"] == 1


def test_a_claim_succeeds_once_the_row_is_completed_never(database: Database) -> None:
    item_id = new_item(database)
    with database.session() as session:
        queue = QueueService(session)
        assert queue.mark_processing(item_id)
        queue.mark_completed(item_id)
    with database.session() as session:
        assert not QueueService(session).mark_processing(item_id)
    assert item(database, item_id).attempts == 1


def test_failures_back_off_then_the_row_dies(database: Database) -> None:
    policy = RetryPolicy(attempts=3, backoff_cap=10)
    item_id = new_item(database, policy, grace_seconds=0)
    statuses = []
    for _ in range(3):
        with database.session() as session:
            queue = QueueService(session, policy=policy, grace_seconds=0)
            assert queue.mark_processing(item_id, "worker-1")
            statuses.append(queue.mark_failed(item_id, "boom"))
        row = item(database, item_id)
        if row.status == "failed":
            assert row.next_retry_at is not None
            assert row.next_retry_at <= datetime.now(UTC) + timedelta(seconds=10)
    assert statuses == ["failed", "failed", "dead"]
    dead = item(database, item_id)
    assert (dead.attempts, dead.error_message, dead.claimed_by) == (3, "boom", None)


def test_a_claim_holds_for_its_lease_then_lapses(database: Database) -> None:
    item_id = new_item(database)
    with database.session() as session:
        assert QueueService(session, lease_seconds=60).mark_processing(item_id, "worker-1")
    with database.session() as session:
        assert not QueueService(session).mark_processing(item_id, "worker-2")
        assert QueueService(session).take_due() == []  # held: nothing to dispatch
        lapsed = datetime.now(UTC) - timedelta(seconds=1)  # the lease ran out
        session.execute(update(SyncQueueItem).values(claim_expires_at=lapsed,
                                                     next_retry_at=lapsed))
    with database.session() as session:
        assert [due.id for due in QueueService(session).take_due()] == [item_id]
        assert QueueService(session).mark_processing(item_id, "worker-2")
    row = item(database, item_id)
    assert (row.status, row.claimed_by, row.attempts) == ("processing", "worker-2", 2)


def test_claims_of_a_holder_known_gone_are_released_and_due_now(database: Database) -> None:
    mine, theirs = new_item(database), new_item(database)
    with database.session() as session:
        queue = QueueService(session, lease_seconds=300)
        assert queue.mark_processing(mine, "w1@host")
        assert queue.mark_processing(theirs, "w2@h")
    with database.session() as session:
        assert QueueService(session).claimants() == {"w1@host", "w2@h"}
        assert QueueService(session).release_claims({"w1@host"}) == 1
    with database.session() as session:
        assert [due.id for due in QueueService(session).take_due()] == [mine]
    row = item(database, mine)
    assert (row.status, row.claimed_by, row.attempts) == ("pending", None, 1)
    assert item(database, theirs).claimed_by == "w2@h"


def test_a_failure_never_overwrites_a_completion(database: Database) -> None:
    item_id = new_item(database)
    with database.session() as session:
        QueueService(session).mark_completed(item_id)
    with database.session() as session:
        assert QueueService(session).mark_failed(item_id, "late") is None
    assert item(database, item_id).status == "completed"


def test_requeue_brings_a_dead_row_back_as_pending_now(database: Database) -> None:
    item_id = new_item(database)
    with database.session() as session:
        QueueService(session).mark_failed(item_id, "poison", final=True)
    with database.session() as session:
        queue = QueueService(session)
        assert [row.id for row in queue.dead_items()] == [item_id]
        assert queue.requeue_failed_item(item_id)
        assert not queue.requeue_failed_item(item_id)  # pending now: nothing to requeue
    with database.session() as session:
        assert [row.id for row in QueueService(session).get_pending_items()] == [item_id]
        event = session.scalars(select(InboxEvent)).one()
        assert event.status == "queued"


def test_due_rows_are_taken_once_per_lease(database: Database) -> None:
    item_id = new_item(database, grace_seconds=60)
    with database.session() as session:
        assert QueueService(session, grace_seconds=60).take_due() == []  # Celery has it
        session.execute(update(SyncQueueItem).values(
            next_retry_at=datetime.now(UTC) - timedelta(seconds=1)))
    with database.session() as session:
        assert [due.id for due in QueueService(session).take_due()] == [item_id]
    with database.session() as session:
        assert QueueService(session).take_due() == []


def test_retry_items_are_failed_rows_whose_time_came(database: Database) -> None:
    item_id = new_item(database)
    with database.session() as session:
        QueueService(session, grace_seconds=0).mark_failed(item_id, "x", retry_in=0)
    with database.session() as session:
        assert [row.id for row in QueueService(session).get_retry_items()] == [item_id]


def test_orphaned_queued_events_get_a_ledger_row(database: Database) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    with database.session() as session:
        session.execute(update(InboxEvent).values(
            queued_at=datetime.now(UTC) - timedelta(minutes=5)))
    with database.session() as session:
        queue = QueueService(session, grace_seconds=60)
        assert queue.adopt_orphaned_events() == 1
        assert [due.inbox_event_id for due in queue.take_due()] == [event_id]


def test_cleanup_deletes_old_completed_rows_only(database: Database) -> None:
    done, dead = new_item(database), new_item(database)
    with database.session() as session:
        queue = QueueService(session)
        queue.mark_completed(done)
        queue.mark_failed(dead, "x", final=True)
        session.execute(update(SyncQueueItem).values(
            processing_completed_at=datetime.now(UTC) - timedelta(days=40)))
    with database.session() as session:
        assert QueueService(session).cleanup_old_items(30) == 1
    with database.session() as session:
        assert QueueService(session).get_queue_stats() == {
            "pending": 0, "processing": 0, "waiting": 0, "completed": 0, "failed": 0, "dead": 1}


def test_the_seed_health_sql_works_as_written(database: Database) -> None:
    new_item(database)
    with database.engine.connect() as connection:
        assert [tuple(row) for row in connection.execute(text(HEALTH_SQL))] == [("pending", 1)]
