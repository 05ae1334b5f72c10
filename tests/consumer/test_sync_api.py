"""POST /consumer/sync/…: a pass opened, or the running one joined; errors for the rest."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tds.db.models import SyncQueueItem
from tds.db.session import Database
from tests.fixtures.consumer import AUTH, Consumer, together
from workers import names


def open_passes(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        return [(item.entity, item.payload["mode"]) for item in session.scalars(
            select(SyncQueueItem).where(SyncQueueItem.kind == "pass").order_by(SyncQueueItem.id))]


def test_inventory_opens_stock_and_prices_and_a_second_request_joins(
        consumer: Consumer, database: Database) -> None:
    first = consumer.post("/consumer/sync/inventory?full=true")
    assert first.status_code == 202
    passes = first.get_json()["passes"]
    assert [(p["entity"], p["mode"], p["joined"], p["queued"]) for p in passes] == [
        ("stock", "full", False, True), ("prices", "full", False, True)]
    assert consumer.publisher.sent == [(names.RUN_OPEN_SYNC, [p["pass_id"]], "tds.maintenance")
                                       for p in passes]
    second = consumer.post("/consumer/sync/inventory?full=true")
    assert second.status_code == 202
    assert [p["pass_id"] for p in second.get_json()["passes"]] == [p["pass_id"] for p in passes]
    assert all(p["joined"] for p in second.get_json()["passes"])
    assert "joined" in second.get_json()["message"]
    assert len(consumer.publisher.sent) == 2  # the running passes are not sent twice
    assert open_passes(database) == [("stock", "full"), ("prices", "full")]


def test_concurrent_requests_open_one_pass(consumer: Consumer, database: Database) -> None:
    client = consumer.client.application.test_client
    answers = together(6, lambda: client().post("/consumer/sync/customers", headers=AUTH))
    assert [answer.status_code for answer in answers] == [202] * 6
    assert len({answer.get_json()["passes"][0]["pass_id"] for answer in answers}) == 1
    assert open_passes(database) == [("customers", "incremental")]


@pytest.mark.parametrize(("path", "mode"), [
    ("/consumer/sync/products", "incremental"), ("/consumer/sync/credit-notes?mode=reconcile",
                                                  "reconcile"),
    ("/consumer/sync/invoices?full=1", "full"), ("/consumer/sync/bills?full=false",
                                                 "incremental"),
])
def test_one_entity_in_a_mode(consumer: Consumer, database: Database, path: str,
                              mode: str) -> None:
    answer = consumer.post(path)
    assert answer.status_code == 202
    assert answer.get_json()["passes"][0]["mode"] == mode
    assert open_passes(database)[0][1] == mode


def test_unknown_entities_and_modes_are_refused(consumer: Consumer,
                                                database: Database) -> None:
    unknown = consumer.post("/consumer/sync/widgets")
    assert (unknown.status_code, unknown.get_json()["error"]) == (404, "not_found")
    assert "inventory" in unknown.get_json()["message"]
    bad_mode = consumer.post("/consumer/sync/products?mode=everything")
    assert (bad_mode.status_code, bad_mode.get_json()["error"]) == (400, "bad_request")
    assert consumer.client.get("/consumer/sync/inventory", headers=AUTH).status_code == 405
    assert open_passes(database) == []


def test_a_broker_that_is_down_leaves_the_pass_to_the_dispatcher(
        consumer: Consumer, database: Database) -> None:
    consumer.publisher.down = True
    answer = consumer.post("/consumer/sync/stock")
    assert answer.status_code == 202
    assert answer.get_json()["passes"][0]["queued"] is False
    assert open_passes(database) == [("stock", "incremental")]
