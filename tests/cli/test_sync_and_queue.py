"""`tds sync`, `tds queue …` and `tds inbox replay` (no Celery involved)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import func, select

from tds.cli import main
from tds.config import Settings
from tds.db.models import Product, SyncQueueItem
from tds.db.session import Database
from tds.events import record_event_failure
from tds.zoho import ZohoValidationError
from tests.fixtures.zoho import add_event


def run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), obj=settings, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_sync_runs_in_the_foreground(database: Database, zoho_settings: Settings) -> None:
    output = run(zoho_settings, "sync", "products", "--full")
    assert "30 records read" in output
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 30
    assert "0 written" in run(zoho_settings, "sync", "products")


def test_dead_rows_are_listed_and_requeued(database: Database, settings: Settings) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    with database.session() as session:
        record_event_failure(session, settings, event_id, ZohoValidationError("bad"))
    assert json.loads(run(settings, "queue", "stats"))["dead"] == 1
    assert "ZohoValidationError: bad" in run(settings, "queue", "dead")
    assert "requeued 1 row" in run(settings, "queue", "requeue", "--all-dead")
    assert json.loads(run(settings, "queue", "stats"))["pending"] == 1


def test_inbox_replay_makes_events_pending(database: Database, settings: Settings) -> None:
    event_id = add_event(database, "products", "1", {"item_id": "1"})
    assert "marked 1 event" in run(settings, "inbox", "replay", str(event_id))
    assert "marked 1 event" in run(settings, "inbox", "replay", "--since", "2000-01-01")
    with database.session() as session:
        assert session.scalars(select(SyncQueueItem.status)).all() == ["pending"]
    result = CliRunner().invoke(main, ["inbox", "replay", "424242"], obj=settings)
    assert result.exit_code != 0
