"""Inventory adjustments move items' stock, per location, with or without a stamp."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tds.sandbox import SandboxServer
from tds.sandbox.clock import parse_time
from tds.sandbox.data import LOCATION_ID, WAREHOUSE_ID
from tests.fixtures.sandbox import Books, WebhookSink

FIELDS = ("stock_on_hand", "available_stock", "actual_available_stock")


def adjust(books: Books, sandbox: SandboxServer, lines: list[dict[str, Any]],
           **body: Any) -> Any:
    return books.call("POST", "/inventoryadjustments", base=sandbox.inventory_base_url,
                      json={"reason": "Stocktake", "line_items": lines, **body})


def get_item(books: Books, item_id: str) -> dict[str, Any]:
    item: dict[str, Any] = books.get(f"/items/{item_id}").json()["item"]
    return item


def location(item: dict[str, Any], location_id: str) -> dict[str, Any]:
    return next(entry for entry in item["locations"] if entry["location_id"] == location_id)


def assert_locations_add_up(item: dict[str, Any]) -> None:
    for field in FIELDS:
        assert sum(float(entry[f"location_{field}"]) for entry in item["locations"]) == \
            item[field]


def test_inventory_adjustment_moves_item_stock(books: Books, sandbox: SandboxServer) -> None:
    item = books.get("/items").json()["items"][0]
    before = get_item(books, item["item_id"])
    answer = adjust(books, sandbox, [{"item_id": item["item_id"], "quantity_adjusted": 7}])
    assert answer.status_code == 201
    adjustment = answer.json()["inventory_adjustment"]
    assert adjustment["inventory_adjustment_id"].isdigit()
    assert adjustment["line_items"][0]["location_id"] == LOCATION_ID  # the primary location
    after = get_item(books, item["item_id"])
    for field in FIELDS:
        assert after[field] == before[field] + 7
    primary = float(location(after, LOCATION_ID)["location_stock_on_hand"])
    assert primary == float(location(before, LOCATION_ID)["location_stock_on_hand"]) + 7
    assert location(after, WAREHOUSE_ID) == location(before, WAREHOUSE_ID)
    assert_locations_add_up(after)
    assert parse_time(after["last_modified_time"]) > parse_time(item["last_modified_time"])


def test_a_location_on_the_line_or_the_adjustment(books: Books,
                                                  sandbox: SandboxServer) -> None:
    first, second = (row["item_id"] for row in books.get("/items").json()["items"][:2])
    before = {item_id: get_item(books, item_id) for item_id in (first, second)}
    answer = adjust(books, sandbox, [
        {"item_id": first, "quantity_adjusted": -2},
        {"item_id": second, "quantity_adjusted": 3, "location_id": LOCATION_ID},
    ], location_id=WAREHOUSE_ID)
    assert answer.status_code == 201
    after = {item_id: get_item(books, item_id) for item_id in (first, second)}
    moved = [(first, WAREHOUSE_ID, -2), (second, LOCATION_ID, 3)]
    for item_id, location_id, quantity in moved:
        was = float(location(before[item_id], location_id)["location_available_stock"])
        now = float(location(after[item_id], location_id)["location_available_stock"])
        assert now == was + quantity
        assert after[item_id]["available_stock"] == before[item_id]["available_stock"] + quantity
        assert_locations_add_up(after[item_id])


def test_an_unknown_location_is_refused(books: Books, sandbox: SandboxServer) -> None:
    item = books.get("/items").json()["items"][0]
    answer = adjust(books, sandbox, [{"item_id": item["item_id"], "quantity_adjusted": 1,
                                      "location_id": "1"}])
    assert (answer.status_code, answer.json()) == (
        400, {"code": 4, "message": "Invalid value passed for location_id"})
    assert get_item(books, item["item_id"])["stock_on_hand"] == item["stock_on_hand"]


def test_an_item_without_locations_gets_one(books: Books, sandbox: SandboxServer) -> None:
    item = books.call("POST", "/items", json={"name": "Loose Widget", "rate": 2.0}).json()["item"]
    adjust(books, sandbox, [{"item_id": item["item_id"], "quantity_adjusted": 4}])
    after = get_item(books, item["item_id"])
    assert after["stock_on_hand"] == 4
    assert [(entry["location_id"], entry["location_stock_on_hand"], entry["is_primary"])
            for entry in after["locations"]] == [(LOCATION_ID, "4", True)]


@pytest.mark.parametrize("moves_stamp", [True, False])
def test_stock_may_move_without_a_stamp(
        webhook_sink: WebhookSink, sandbox_factory: Callable[..., SandboxServer],
        moves_stamp: bool) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, stock_moves_stamp=moves_stamp)
    books = Books(server)
    item = books.get("/items").json()["items"][0]
    adjust(books, server, [{"item_id": item["item_id"], "quantity_adjusted": 5}])
    listed = next(row for row in books.get("/items").json()["items"]
                  if row["item_id"] == item["item_id"])
    assert listed["stock_on_hand"] == item["stock_on_hand"] + 5  # the list shows it either way
    stamp_moved = listed["last_modified_time"] != item["last_modified_time"]
    assert stamp_moved is moves_stamp
    assert server.admin.flush_webhooks()
    paths = sorted(sent.path.rsplit("/", 1)[1] for sent in webhook_sink.received)
    assert paths == (["products", "stock"] if moves_stamp else ["stock"])


def test_simulated_movements_follow_the_setting(
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(stock_moves_stamp=False)
    before = server.admin.records("items")
    stock = {item_id: server.state.store.get("items", item_id) for item_id in before}
    server.admin.change("inventory_adjustments", 3)
    assert server.admin.records("items") == before
    assert any(server.state.store.get("items", item_id) != record
               for item_id, record in stock.items())
