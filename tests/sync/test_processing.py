"""An inbox event's life: applied once, failures recorded, replays and dispatch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tds import processing
from tds.config import Settings
from tds.db.models import InboxEvent, Product, SyncQueueItem
from tds.db.session import Database
from tds.zoho import ZohoRateLimitError, ZohoServerError, ZohoValidationError
from tests.sync.conftest import ORG, FakeZoho, add_event

ITEM = {"item_id": "1", "name": "Bolt", "rate": 2, "last_modified_time": "2024-01-01T00:00:00Z"}


@pytest.fixture
def org_settings(settings: Settings) -> Settings:
    return settings.with_overrides(zoho_organization_id=ORG, task_max_retries=2)


def ledger(database: Database) -> list[tuple[str, int]]:
    with database.session() as session:
        return [(row.status, row.attempts) for row in session.scalars(select(SyncQueueItem))]


def inbox(database: Database, event_id: int) -> InboxEvent:
    with database.session() as session:
        event = session.get(InboxEvent, event_id)
        assert event is not None
        return event


def test_an_event_applies_once_and_a_second_run_does_nothing(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", ITEM)
    first = processing.process_event(database, FakeZoho(), org_settings, event_id)
    second = processing.process_event(database, FakeZoho(), org_settings, event_id)
    assert (first.status, first.written, second.status) == ("completed", 1, "skipped")
    assert ledger(database) == [("completed", 1)]
    event = inbox(database, event_id)
    assert event.status == "processed"
    assert event.processed_at is not None


def test_a_missing_inbox_row_is_reported_not_raised(
        database: Database, org_settings: Settings) -> None:
    assert processing.process_event(database, FakeZoho(), org_settings, 999).status == "missing"


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
        threads = [threading.Thread(target=lambda: outcomes.append(processing.process_event(
            database, SlowZoho(), org_settings, event_id).status)) for _ in range(2)]
        for thread in threads:
            thread.start()
        release.set()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["completed", "skipped"]
        assert ledger(database) == [("completed", 1)]
    finally:
        from tests.conftest import empty_tables
        empty_tables(database)
        database.dispose()


def test_failures_are_recorded_then_the_event_dies_and_replay_revives_it(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    error = ZohoServerError("Zoho failed", http_status=500)
    for final in (False, True):
        with pytest.raises(ZohoServerError):
            processing.process_event(database, BrokenZoho(error), org_settings, event_id)
        processing.record_event_failure(database, org_settings, event_id, error,
                                        retry_in=0, final=final)
    assert ledger(database) == [("dead", 2)]
    assert inbox(database, event_id).status == "dead"
    with database.session() as session:
        assert processing.replay_events(session, org_settings, [event_id]) == 1
    assert ledger(database) == [("pending", 0)]
    due = processing.take_due_events(database, org_settings)
    assert [item.inbox_event_id for item in due] == [event_id]
    zoho = FakeZoho({"/items": [ITEM]})
    assert processing.process_event(database, zoho, org_settings, event_id).status == "completed"


def test_replay_of_a_processed_event_applies_it_again(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", ITEM)
    processing.process_event(database, FakeZoho(), org_settings, event_id)
    with database.session() as session:
        session.execute(update(Product).values(name="edited locally"))
        processing.replay_events(session, org_settings, [event_id])
    processing.process_event(database, FakeZoho(), org_settings, event_id)
    with database.session() as session:
        assert session.scalars(select(Product.name)).one() == "Bolt"


def test_a_queued_event_whose_message_was_lost_is_dispatched(
        database: Database, org_settings: Settings) -> None:
    event_id = add_event(database, "products", "1", ITEM)
    with database.session() as session:
        session.execute(update(InboxEvent).values(
            queued_at=datetime.now(UTC) - timedelta(minutes=5)))
    due = processing.take_due_events(database, org_settings)
    assert [(item.entity, item.inbox_event_id) for item in due] == [("products", event_id)]


@pytest.mark.parametrize(("error", "transient"), [
    (ZohoServerError("5xx"), True),
    (ZohoRateLimitError("429"), True),
    (ZohoRateLimitError("daily", daily=True), True),
    (ZohoValidationError("400"), False),
    (ValueError("bug"), False),
])
def test_errors_are_sorted_into_transient_and_permanent(error: Exception,
                                                        transient: bool) -> None:
    assert processing.is_transient(error) is transient


def test_zohos_requested_wait_is_capped() -> None:
    assert processing.requested_wait(ZohoRateLimitError("x", retry_after=5000), 900) == 900
    assert processing.requested_wait(ZohoServerError("x"), 900) is None


class BrokenZoho(FakeZoho):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get(self, path: str, params: Any = None) -> dict[str, Any]:
        raise self.error
