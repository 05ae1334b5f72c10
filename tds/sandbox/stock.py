"""Inventory adjustments: each line moves one item's stock at one location.

A line's ``quantity_adjusted`` is added to the item's ``stock_on_hand``,
``available_stock`` and ``actual_available_stock`` and to the same figures of
one entry of its ``locations``: the line's ``location_id``, else the
adjustment's, else the item's primary location (one of the organization's
locations, or 400 code 4). Whether a stock movement moves the item's
``last_modified_time`` is unconfirmed at Zoho (the sheet), so
``moves_stamp`` decides; without a stamp, Zoho's Items rule would not see an
edit, so the items are not announced either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tds.sandbox.data import LOCATION_ID, LOCATIONS, Record, location_stock, stock_text
from tds.sandbox.store import Store
from tds.sandbox.writes import invalid

STOCK_FIELDS = ("stock_on_hand", "available_stock", "actual_available_stock")


def adjust(store: Store, body: dict[str, Any], *,
           moves_stamp: bool = True) -> tuple[Record, list[Record]]:
    """Create the adjustment and move the stock; returns it and the items whose
    ``last_modified_time`` moved (the ones to announce)."""
    lines = body.get("line_items")
    if not lines or not isinstance(lines, list) or not all(
            isinstance(line, dict) for line in lines):
        raise invalid("line_items")
    moves = [_move(store, line, body) for line in lines]
    with store.lock:
        items = [item for item_id, quantity, location_id, _ in moves
                 if (item := store.modify("items", item_id, _moved(quantity, location_id),
                                          stamp=moves_stamp))]
        adjustment = store.create("inventory_adjustments", {
            **body, "adjustment_type": body.get("adjustment_type", "quantity"),
            "status": "adjusted",
            "line_items": [{"item_id": item_id, "name": name, "quantity_adjusted": quantity,
                            "location_id": location_id,
                            "location_name": LOCATIONS[location_id]}
                           for item_id, quantity, location_id, name in moves],
        })
    return adjustment, items if moves_stamp else []


def _move(store: Store, line: dict[str, Any],
          body: dict[str, Any]) -> tuple[str, float, str, str]:
    """``(item_id, quantity, location_id, item name)`` of one line, checked."""
    item = store.get("items", str(line.get("item_id", "")))
    if item is None:
        raise invalid("item_id")
    try:
        quantity = float(line["quantity_adjusted"])
    except (KeyError, TypeError, ValueError):
        raise invalid("quantity_adjusted") from None
    location_id = str(line.get("location_id") or body.get("location_id") or _primary(item))
    if location_id not in LOCATIONS:
        raise invalid("location_id")
    return item["item_id"], quantity, location_id, item["name"]


def _primary(item: Record) -> str:
    return next((entry["location_id"] for entry in item.get("locations") or ()
                 if entry.get("is_primary")), LOCATION_ID)


def _moved(quantity: float, location_id: str) -> Callable[[Record], Record]:
    def change(item: Record) -> Record:
        locations = [
            {**entry, **{f"location_{field}": stock_text(_number(entry.get(f"location_{field}"))
                                                         + quantity) for field in STOCK_FIELDS}}
            if entry["location_id"] == location_id else entry
            for entry in item.get("locations") or ()
        ]
        if not any(entry["location_id"] == location_id for entry in locations):
            locations.append(location_stock(location_id, quantity, primary=not locations))
        return {**item, **{field: _number(item.get(field)) + _number(quantity)
                           for field in STOCK_FIELDS}, "locations": locations}
    return change


def _number(value: Any) -> int | float:
    """A stock figure as a number; Zoho's blank ``""`` is zero."""
    number = float(value or 0)
    return int(number) if number.is_integer() else number
