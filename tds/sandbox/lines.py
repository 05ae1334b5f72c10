"""Line items and the totals Zoho derives from them.

Generated transactions and API creates price their lines here, so a created
sales order adds up as a generated one does: a line's ``item_total`` is rate
times quantity less its ``discount`` (a percentage); ``sub_total`` sums the
lines; each tax adds its percentage of the lines it applies to (``taxes``,
``tax_total``); ``total`` is the two together. Line keys follow the
``line_items`` of Zoho's invoice schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Record = dict[str, Any]

SALES_TAX: Record = {"tax_id": "460000000000301", "tax_name": "Sales Tax", "tax_percentage": 10}
NO_TAX: Record = {"tax_id": "", "tax_name": "", "tax_percentage": 0}


def line_item(line_item_id: str, item: Record, quantity: float, rate: float,
              discount: float = 0, tax: Record = NO_TAX) -> Record:
    """One priced line for ``item`` (an item record, or the name fields a body gave)."""
    gross = rate * quantity
    discount_amount = round(gross * discount / 100, 2)
    return {
        "line_item_id": line_item_id, "item_id": item.get("item_id", ""),
        "name": item.get("name", ""), "description": item.get("description", ""),
        "quantity": quantity, "rate": rate, "discount": discount,
        "discount_amount": discount_amount, "tax_id": tax["tax_id"], "tax_name": tax["tax_name"],
        "tax_percentage": tax["tax_percentage"], "item_total": round(gross - discount_amount, 2),
        "unit": item.get("unit", "pcs"),
    }


def totals(lines: Iterable[Record]) -> Record:
    """``sub_total``, ``tax_total``, ``total`` and ``taxes`` (one entry per tax) of ``lines``."""
    sub_total = 0.0
    amounts: dict[tuple[str, str], float] = {}
    for line in lines:
        sub_total += line["item_total"]
        if line.get("tax_id"):
            key = (line["tax_id"], f"{line['tax_name']} ({float(line['tax_percentage']):g}%)")
            share = line["item_total"] * float(line["tax_percentage"]) / 100
            amounts[key] = amounts.get(key, 0.0) + share
    taxes = [{"tax_id": tax_id, "tax_name": name, "tax_amount": round(amount, 2)}
             for (tax_id, name), amount in amounts.items()]
    tax_total = round(sum(round(amount, 2) for amount in amounts.values()), 2)
    return {"sub_total": round(sub_total, 2), "tax_total": tax_total,
            "total": round(sub_total + tax_total, 2), "taxes": taxes}
