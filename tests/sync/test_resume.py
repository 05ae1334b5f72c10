"""Passes as ledger work: one open pass per entity and mode, resumed from its checkpoint
after a fault, a reconcile that resumes still finding what Zoho deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tds import passes
from tds.config import Settings
from tds.db.models import Product, SyncQueueItem
from tds.db.session import Database
from tds.zoho import ZohoServerError
from tests.fixtures.zoho import ORG, FakeZoho


def item(number: int) -> dict[str, Any]:
    return {"item_id": str(number), "name": f"Bolt {number}", "rate": 1,
            "last_modified_time": "2024-01-01T00:00:01+0000"}


class BreaksAfter(FakeZoho):
    """Lists `pages` pages, then fails as a Zoho outage would."""

    def __init__(self, records: dict[str, list[dict[str, Any]]], pages: int) -> None:
        super().__init__(records)
        self.pages = pages

    def paginated_fetch(self, path: str, list_key: str, params: Any = None,
                        per_page: int = 200) -> Iterator[list[dict[str, Any]]]:
        for index, page in enumerate(super().paginated_fetch(path, list_key, params, per_page)):
            if index == self.pages:
                raise ZohoServerError("Zoho failed", http_status=500)
            yield page


@pytest.fixture
def org_settings(settings: Settings) -> Settings:
    return settings.with_overrides(zoho_organization_id=ORG)


def open_pass(database: Database, settings: Settings, entity: str, mode: str) -> int:
    with database.session() as session:
        return passes.open_pass(session, settings, entity, mode)[0]


def products(database: Database, live: bool = True) -> set[str]:
    with database.session() as session:
        query = select(Product.zoho_id)
        if live:
            query = query.where(Product.deleted_at.is_(None))
        return set(session.scalars(query))


def fail(database: Database, settings: Settings, item_id: int, error: Exception) -> str:
    with database.session() as session:
        failure = passes.queue_for(session, settings).record_failure(item_id, error)
    assert failure is not None
    return failure.status


def test_a_second_request_joins_the_open_pass(database: Database,
                                              org_settings: Settings) -> None:
    first = open_pass(database, org_settings, "products", "full")
    assert open_pass(database, org_settings, "products", "full") == first
    assert open_pass(database, org_settings, "products", "reconcile") != first


def test_a_pass_cut_short_resumes_from_its_checkpoint(database: Database,
                                                      org_settings: Settings) -> None:
    records = {"/items": [item(n) for n in range(1000)]}  # five pages of 200
    item_id = open_pass(database, org_settings, "products", "full")
    broken = BreaksAfter(records, pages=3)
    with pytest.raises(ZohoServerError):
        passes.run_pass(database, broken, org_settings, item_id)
    assert fail(database, org_settings, item_id, ZohoServerError("Zoho failed")) == "failed"
    assert len(products(database)) == 600
    healthy = FakeZoho(records)
    report = passes.run_pass(database, healthy, org_settings, item_id)
    assert report is not None
    # Not page 1 again: the page after the last one committed (on Postgres, with two
    # pages written at once, the third may have been in hand, so it is read again).
    assert healthy.pages_read in ([4, 5], [3, 4, 5])
    assert products(database) == {str(n) for n in range(1000)}
    with database.session() as session:
        row = session.get(SyncQueueItem, item_id)
        assert row is not None
        assert (row.status, row.attempts) == ("completed", 2)
    assert open_pass(database, org_settings, "products", "full") != item_id  # a new one


def test_a_reconcile_that_resumes_still_finds_what_zoho_deleted(
        database: Database, org_settings: Settings) -> None:
    records = {"/items": [item(n) for n in range(1000)]}
    passes.run_pass(database, FakeZoho(records),
                    org_settings, open_pass(database, org_settings, "products", "full"))
    item_id = open_pass(database, org_settings, "products", "reconcile")
    with pytest.raises(ZohoServerError):
        passes.run_pass(database, BreaksAfter(records, pages=2), org_settings, item_id)
    fail(database, org_settings, item_id, ZohoServerError("Zoho failed"))
    # Deleted in Zoho meanwhile, where the pass has not listed yet.
    gone = {"650", "999"}
    zoho = FakeZoho({"/items": [row for row in records["/items"] if row["item_id"] not in gone]})
    report = passes.run_pass(database, zoho, org_settings, item_id)
    assert report is not None
    # Removing rows shifted the pages: a record the resumed pass missed is confirmed
    # alive with a GET, never deleted.
    assert products(database) == {str(n) for n in range(1000)} - {"650", "999"}
    assert report.deleted == 2
    assert {"650", "999"} <= products(database, live=False)
