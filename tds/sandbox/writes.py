"""Creates and updates, checked the way Zoho checks them (stock adjustments are
:mod:`stock`'s).

A failed check raises :class:`ZohoFault`, which the app turns into Zoho's
error envelope. Messages follow Zoho's "Invalid value passed for <field>"
wording; the exact codes for these validation errors are unconfirmed.
"""

from __future__ import annotations

from typing import Any

from tds.sandbox.data import Record, entity_id
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
           auto_number: bool = True) -> Record:
    """Create a record and return it.

    An entity with a ``number_field`` gets the next number of its series, unless
    ``auto_number`` is off (Zoho's ``ignore_auto_number_generation=true``): then the
    body must carry the number. References are not unique: Zoho accepts duplicates.
    """
    spec = SPECS[entity]
    for field in spec.required:
        if not body.get(field):
            raise invalid(field)
    record = {key: value for key, value in body.items() if key != spec.id_field}
    if "customer_id" in record:
        record.update(_customer(store, str(record["customer_id"])))
    if "line_items" in record:
        record.update(_lines(store, record["line_items"]))
    if spec.number_field:
        record[spec.number_field] = _series_number(store, entity, record, auto_number)
    # Entities Zoho marks active or inactive start active; transactions start as drafts.
    record.setdefault("status", "active" if spec.marked_messages else "draft")
    return store.create(entity, record)


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
        if line.get("item_id") and item is None:
            raise invalid("item_id")  # as for an unknown customer; Zoho's code is unconfirmed
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
