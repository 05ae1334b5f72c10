"""Creates, updates and stock adjustments, checked the way Zoho checks them.

A failed check raises :class:`ZohoFault`, which the app turns into Zoho's
error envelope. Messages follow Zoho's "Invalid value passed for <field>"
wording; the exact codes for these validation errors are unconfirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tds.sandbox.data import LOCATION_ID, Record, entity_id
from tds.sandbox.entities import SPECS
from tds.sandbox.lines import NO_TAX, line_item, totals
from tds.sandbox.store import Store


class ZohoFault(Exception):  # noqa: N818 - named after what it models, a Zoho error answer.
    """An error answer: HTTP status plus Zoho's ``code`` and ``message``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(field: str) -> ZohoFault:
    return ZohoFault(400, 4, f"Invalid value passed for {field}")


def create(store: Store, entity: str, body: dict[str, Any], *,
           auto_number: bool = True) -> tuple[Record, list[Record]]:
    """Create a record; returns it and any items whose stock it changed.

    An entity with a ``number_field`` gets the next number of its series, unless
    ``auto_number`` is off (Zoho's ``ignore_auto_number_generation=true``): then the
    body must carry the number. References are not unique: Zoho accepts duplicates.
    """
    spec = SPECS[entity]
    for field in spec.required:
        if not body.get(field):
            raise invalid(field)
    if entity == "inventory_adjustments":
        return _adjust_stock(store, body)
    record = {key: value for key, value in body.items() if key != spec.id_field}
    if "customer_id" in record:
        record.update(_customer(store, str(record["customer_id"])))
    if "line_items" in record:
        record.update(_lines(store, record["line_items"]))
    if spec.number_field:
        record[spec.number_field] = _series_number(store, entity, record, auto_number)
    record.setdefault("status", "active" if entity in {"items", "contacts", "pricebooks"}
                      else "draft")
    return store.create(entity, record), []


def update(store: Store, entity: str, record_id: str, body: dict[str, Any]) -> Record | None:
    """Apply a PUT body to a record; None when it does not exist."""
    id_field = SPECS[entity].id_field
    changes = {key: value for key, value in body.items() if key != id_field}
    if "line_items" in changes:
        changes.update(_lines(store, changes["line_items"]))
    return store.modify(entity, record_id, lambda record: {**record, **changes})


def _series_number(store: Store, entity: str, record: Record, auto_number: bool) -> str:
    spec = SPECS[entity]
    if auto_number:
        return f"{spec.number_prefix}{store.next_number(entity):05d}"
    if not record.get(spec.number_field):
        raise invalid(spec.number_field)
    return str(record[spec.number_field])


def _customer(store: Store, customer_id: str) -> Record:
    contact = store.get("contacts", customer_id)
    if contact is None:
        raise invalid("customer_id")
    return {"customer_id": customer_id, "customer_name": contact["contact_name"]}


def _lines(store: Store, lines: Any) -> Record:
    """Priced lines and their totals; a line naming an item takes its name and rate."""
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise invalid("line_items")
    priced = []
    for line in lines:
        item = store.get("items", str(line.get("item_id", ""))) if line.get("item_id") else None
        named = {**(item or {}), **{key: line[key] for key in ("item_id", "name", "description",
                                                                "unit") if key in line}}
        try:
            rate = float(line.get("rate", item["rate"] if item else 0))
            quantity = float(line.get("quantity", 1))
            discount = float(line.get("discount", 0))
            percentage = float(line.get("tax_percentage", 0))
        except (TypeError, ValueError):
            raise invalid("line_items") from None
        tax = {"tax_id": str(line.get("tax_id", "")), "tax_name": str(line.get("tax_name", "")),
               "tax_percentage": percentage} if line.get("tax_id") else NO_TAX
        line_id = str(line.get("line_item_id") or entity_id(
            "line_items", store.next_number("line_items")))
        priced.append({**line, **line_item(line_id, named, quantity, rate, discount, tax)})
    return {"line_items": priced, **totals(priced)}


def _adjust_stock(store: Store, body: dict[str, Any]) -> tuple[Record, list[Record]]:
    lines = body["line_items"]
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise invalid("line_items")
    parsed: list[tuple[str, float, str]] = []
    for line in lines:
        item_id = str(line.get("item_id", ""))
        try:
            quantity = float(line["quantity_adjusted"])
        except (KeyError, TypeError, ValueError):
            raise invalid("quantity_adjusted") from None
        if store.get("items", item_id) is None:
            raise invalid("item_id")
        parsed.append((item_id, quantity, str(line.get("location_id", LOCATION_ID))))
    with store.lock:
        items = [item for item_id, quantity, _ in parsed
                 if (item := store.modify("items", item_id, _stock_change(quantity)))]
        adjustment = store.create("inventory_adjustments", {
            **body, "adjustment_type": body.get("adjustment_type", "quantity"),
            "status": "adjusted",
            "line_items": [{"item_id": item_id, "quantity_adjusted": quantity,
                            "location_id": location} for item_id, quantity, location in parsed],
        })
    return adjustment, items


def _stock_change(quantity: float) -> Callable[[Record], Record]:
    def change(item: Record) -> Record:
        return {**item, **{field: _number(item.get(field, 0)) + _number(quantity)
                           for field in ("stock_on_hand", "available_stock",
                                         "actual_available_stock")}}
    return change


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number
