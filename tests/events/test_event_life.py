"""An inbox event's life: applied once, failures recorded by the policy, replays, dispatch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tds import events
from tds.config import Settings
from tds.db.models import InboxEvent, Product, SyncQueueItem
from tds.db.session import Database
from tds.ledger import Failure
from tds.zoho import ZohoRateLimitError, ZohoServerError, ZohoValidationError
from tests.fixtures.zoho import ORG, FakeZoho, add_event

ITEM = {"item_id": "1", "name": "Bolt", "rate": 2, "last_modified_time": "2024-01-01T00:00:00Z"}


@pytest.fixture
def org_settings(settings: Settings) -> Settings:
    return settings.with_overrides(zoho_organization_id=ORG, task_max_retries=2)


def ledger(database: Database) -> list[tuple[str, int]]:
    with database.session() as session:
        return [(row.status, row.attempts) for row in session.scalars(select(SyncQueueItem))]


def failed(database: Database, settings: Settings, event_id: int,
           error: Exception) -> Failure | None:
    with database.session() as session:
        return events.record_event_failure(session, settings, event_id, error)


def inbox(database: Database, event_id: int) -> InboxEvent:
    with database.session() as session:
        event = session.get(InboxEvent, event_id)
        assert event is not None
        return event


def test_an_event_applies_once_and_a_second_run_does_nothing(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", ITEM)
    first = events.process_event(database, FakeZoho(), org_settings, event_id)
    second = events.process_event(database, FakeZoho(), org_settings, event_id)
    assert (first.status, first.written, second.status) == ("completed", 1, "skipped")
    assert ledger(database) == [("completed", 1)]
    event = inbox(database, event_id)
    assert event.status == "processed"
    assert event.processed_at is not None


def test_a_missing_inbox_row_is_reported_not_raised(
        database: Database, org_settings: Settings) -> None:
    assert events.process_event(database, FakeZoho(), org_settings, 999).status == "missing"


@pytest.mark.postgres
def test_two_workers_on_one_event_write_it_once(
        postgres_url: str, org_settings: Settings) -> None:
    database = Database(postgres_url)
    try:
        event_id = add_event(database, "products", "1", {"item_id": "1"})
        release = threading.Event()

        class SlowZoho(FakeZoho):
            def get(self, path: str, params: Any = None) -> dict[str, Any]:
                release.wait(5)
                return {"item": ITEM}

        outcomes: list[str] = []
        threads = [threading.Thread(target=lambda: outcomes.append(events.process_event(
            database, SlowZoho(), org_settings, event_id).status)) for _ in range(2)]
        for thread in threads:
            thread.start()
        release.set()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["completed", "skipped"]
        assert ledger(database) == [("completed", 1)]
    finally:
        from tests.fixtures.services import empty_tables
        empty_tables(database)
        database.dispose()


def test_failures_are_retried_by_the_policy_then_the_event_dies_and_replay_revives_it(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    error = ZohoServerError("Zoho failed", http_status=500)
    failures = []
    for _ in range(3):  # the first try and task_max_retries=2 retries
        with pytest.raises(ZohoServerError):
            events.process_event(database, BrokenZoho(error), org_settings, event_id)
        failures.append(failed(database, org_settings, event_id, error))
    assert [failure.status for failure in failures if failure] == ["failed", "failed", "dead"]
    assert all(0 <= (failure.retry_in or 0) <= 900 for failure in failures if failure)
    assert failures[-1] is not None
    assert failures[-1].retry_in is None
    assert ledger(database) == [("dead", 3)]
    assert inbox(database, event_id).status == "dead"
    with database.session() as session:
        assert events.replay_events(session, org_settings, [event_id]) == 1
    assert ledger(database) == [("pending", 0)]
    with database.session() as session:
        due = events.take_due_events(session, org_settings)
    assert [item.inbox_event_id for item in due] == [event_id]
    zoho = FakeZoho({"/items": [ITEM]})
    assert events.process_event(database, zoho, org_settings, event_id).status == "completed"


def test_replay_of_a_processed_event_applies_it_again(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", ITEM)
    events.process_event(database, FakeZoho(), org_settings, event_id)
    with database.session() as session:
        session.execute(update(Product).values(name="edited locally"))
        events.replay_events(session, org_settings, [event_id])
    events.process_event(database, FakeZoho(), org_settings, event_id)
    with database.session() as session:
        assert session.scalars(select(Product.name)).one() == "Bolt"


def test_a_queued_event_whose_message_was_lost_is_dispatched(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", ITEM)
    with database.session() as session:
        session.execute(update(InboxEvent).values(
            queued_at=datetime.now(UTC) - timedelta(minutes=5)))
    with database.session() as session:
        due = events.take_due_events(session, org_settings)
    assert [(item.entity, item.inbox_event_id) for item in due] == [("products", event_id)]


def test_a_permanent_error_kills_the_event_at_once(database: Database,
                                                   org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    error = ZohoValidationError("400")
    with pytest.raises(ZohoValidationError):
        events.process_event(database, BrokenZoho(error), org_settings, event_id)
    failure = failed(database, org_settings, event_id, error)
    assert failure is not None
    assert (failure.status, failure.retry_in) == ("dead", None)
    assert ledger(database) == [("dead", 1)]


class BrokenZoho(FakeZoho):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get(self, path: str, params: Any = None) -> dict[str, Any]:
        raise self.error


def test_a_spent_daily_quota_parks_the_event_which_never_dies_of_it(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    quota = ZohoRateLimitError("the day is spent", daily=True, retry_after=3600)
    for _ in range(5):  # more tries than task_max_retries=2 allows any other error
        with pytest.raises(ZohoRateLimitError):
            events.process_event(database, BrokenZoho(quota), org_settings, event_id)
        failure = failed(database, org_settings, event_id, quota)
        assert failure is not None
        assert (failure.status, failure.resume_in, failure.retry_in) == ("waiting", 3600, None)
        # Before Zoho's reset nobody takes it; the dispatcher sends it once it is due.
        assert events.process_event(database, FakeZoho(), org_settings, event_id).status \
            == "skipped"
        with database.session() as session:
            session.execute(update(SyncQueueItem).values(
                next_retry_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert ledger(database) == [("waiting", 0)]
    assert inbox(database, event_id).status == "queued"
    with database.session() as session:
        assert [due.inbox_event_id for due in events.take_due_events(session, org_settings)] \
            == [event_id]
    zoho = FakeZoho({"/items": [ITEM]})
    assert events.process_event(database, zoho, org_settings, event_id).status == "completed"
    assert ledger(database) == [("completed", 1)]
