"""GET /consumer/sync/status: runs as they ended, freshness, health by threshold, the
ledger, the inbox backlog, dead letters and the quota; and the credentials check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tds import sync
from tds.config import Settings
from tds.db.models import SyncQueueItem
from tds.db.session import Database
from tds.entities import BY_NAME
from tds.events import record_event_failure
from tds.sync_state import record_error, state_of
from tds.zoho import UnifiedZohoClient, ZohoServerError, ZohoValidationError
from tests.fixtures.consumer import Consumer, ConsumerFactory
from tests.fixtures.zoho import add_event

STATUS = "/consumer/sync/status"


def set_state(database: Database, settings: Settings, entity: str, **columns: object) -> None:
    with database.session() as session:
        state = state_of(session, settings.zoho_organization_id, entity)
        for name, value in columns.items():
            setattr(state, name, value)


def test_a_finished_pass_is_reported_with_its_rows_and_freshness(
        consumer: Consumer, database: Database, zoho_client: UnifiedZohoClient,
        zoho_settings: Settings) -> None:
    sync.sync_full(database, zoho_client, BY_NAME["customers"],
                   zoho_settings.zoho_organization_id)
    report = consumer.get(STATUS)
    assert report.status_code == 200
    customers = report.get_json()["entities"]["customers"]
    assert customers["health"] == "ok"
    run = customers["runs"]["full"]
    assert (run["outcome"], run["seen"], run["rows"]) == ("ok", 15, 15)
    assert customers["last_success"]["full"] is not None
    assert customers["cursor"] is not None
    assert customers["freshness_seconds"] > 0  # the sandbox's records are years old
    assert report.get_json()["zoho_budget"]["used"] >= 1
    assert report.get_json()["organization_id"] == zoho_settings.zoho_organization_id


def test_stale_when_no_pass_finished_within_the_threshold(
        consumer_factory: ConsumerFactory, database: Database,
        zoho_settings: Settings) -> None:
    consumer = consumer_factory(stale_after_seconds=600, inventory_stale_after_seconds=60)
    now = datetime.now(UTC)
    set_state(database, zoho_settings, "invoices", last_incremental_at=now - timedelta(
        seconds=300))
    set_state(database, zoho_settings, "bills", last_incremental_at=now - timedelta(
        seconds=900))
    set_state(database, zoho_settings, "stock", last_full_sync_at=now - timedelta(seconds=300))
    entities = consumer.get(STATUS).get_json()["entities"]
    assert entities["invoices"]["health"] == "ok"
    assert (entities["bills"]["health"], entities["stock"]["health"]) == ("stale", "stale")
    assert "600s" in entities["bills"]["health_reason"]
    assert "60s" in entities["stock"]["health_reason"]
    assert entities["customers"]["health"] == "stale"  # never synced
    assert entities["customers"]["health_reason"] == "No pass has finished yet."


def test_failing_when_the_last_pass_failed_or_work_is_dead(
        consumer: Consumer, database: Database, zoho_settings: Settings) -> None:
    org = zoho_settings.zoho_organization_id
    with database.session() as session:
        record_error(session, org, "invoices", "incremental", datetime.now(UTC),
                     ZohoServerError("Zoho answered HTTP 500"), seen=200, written=150)
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    with database.session() as session:
        record_event_failure(session, zoho_settings, event_id, ZohoValidationError("bad"))
    status = consumer.get(STATUS).get_json()
    invoices, products = status["entities"]["invoices"], status["entities"]["products"]
    assert invoices["health"] == "failing"
    assert "HTTP 500" in invoices["health_reason"]
    assert invoices["runs"]["incremental"]["outcome"] == "failed"
    assert invoices["runs"]["incremental"]["rows"] == 150
    assert products["health"] == "failing"
    assert products["ledger"] == {"dead": 1}
    assert status["dead_letters"]["count"] == 1
    assert status["dead_letters"]["items"][0]["error"] == "ZohoValidationError: bad"
    assert status["ledger"]["dead"] == 1


def test_stalled_when_open_work_does_not_move(consumer_factory: ConsumerFactory,
                                              database: Database) -> None:
    consumer = consumer_factory(stalled_after_seconds=60)
    opened = consumer.post("/consumer/sync/prices").get_json()["passes"][0]["pass_id"]
    assert consumer.get(STATUS).get_json()["entities"]["prices"]["health"] != "stalled"
    with database.session() as session:
        item = session.get(SyncQueueItem, opened)
        assert item is not None
        item.queued_at = datetime.now(UTC) - timedelta(seconds=120)
        item.status, item.error_message = "waiting", "ZohoRateLimitError: daily quota"
    prices = consumer.get(STATUS).get_json()["entities"]["prices"]
    assert prices["health"] == "stalled"
    assert "daily quota" in prices["health_reason"]
    assert prices["open_passes"][0]["status"] == "waiting"


def test_the_inbox_backlog_and_orders(consumer: Consumer, database: Database) -> None:
    for zoho_id in ("1", "2"):
        add_event(database, "products", zoho_id, {"item_id": zoho_id}, status="received")
    consumer.post("/consumer/orders", {"customer_id": "1", "line_items": [
        {"item_id": "2", "quantity": 1, "rate": 1}]})
    status = consumer.get(STATUS).get_json()
    assert status["inbox"]["backlog"] == 2
    assert status["inbox"]["oldest_age_seconds"] >= 0
    assert status["inbox"]["by_status"] == {"received": 2}
    assert status["orders"] == {"pending": 1}
    assert status["ledger"]["pending"] == 1


def test_credentials_are_checked_against_zoho(consumer_factory: ConsumerFactory) -> None:
    good = consumer_factory().get("/consumer/credentials")
    assert good.status_code == 200
    assert good.get_json()["ok"] is True
    assert set(good.get_json()["parts"].values()) == {"ok"}
    wrong = consumer_factory(zoho_client_secret="nope").get("/consumer/credentials")
    verdict = wrong.get_json()
    assert (wrong.status_code, verdict["ok"], verdict["problem"]) == (200, False, "client")
    assert verdict["parts"]["client"] == "problem"
    assert "ZOHO_CLIENT_SECRET" in verdict["remedy"]
