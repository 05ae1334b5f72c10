"""Every entity's generated records from one seed: items and contacts first,
then the transactions, price books and inventory adjustments built over them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tds.sandbox.clock import format_date
from tds.sandbox.data import (
    CURRENCY_ID,
    LOCATION_ID,
    LOCATION_NAME,
    Record,
    entity_id,
    make_contact,
    make_item,
    random_times,
    seeded,
    stamp,
)
from tds.sandbox.transactions import (
    Generator,
    make_bill,
    make_creditnote,
    make_invoice,
    make_salesorder,
)

Maker = Callable[[Generator, random.Random, int], Record]


def make_pricebook(gen: Generator, rng: random.Random, index: int) -> Record:
    created, modified = random_times(rng)
    chosen = rng.sample(gen.items, min(5, len(gen.items)))
    return stamp({
        "pricebook_id": entity_id("pricebooks", index), "name": f"Price List {index:03d}",
        "description": "Negotiated rates", "currency_id": CURRENCY_ID, "currency_code": "USD",
        "decimal_place": 2, "is_default": False, "is_increase": False, "percentage": 0.0,
        "pricebook_type": "per_item", "pricing_scheme": "unit", "rounding_type": "no_rounding",
        "sales_or_purchase_type": "sales", "status": "active",
        "pricebook_items": [_pricebook_item(rng, item, index * 10 + number)
                            for number, item in enumerate(chosen)],
    }, created, modified)


def _pricebook_item(rng: random.Random, item: Record, number: int) -> Record:
    return {"pricebook_item_id": entity_id("pricebook_items", number),
            "item_id": item["item_id"], "pricing_scheme": "unit",
            "pricebook_rate": round(item["rate"] * rng.uniform(0.8, 1.0), 2)}


def make_adjustment(gen: Generator, rng: random.Random, index: int) -> Record:
    created, modified = random_times(rng)
    lines = [
        {"item_id": item["item_id"], "name": item["name"], "unit": item["unit"],
         "location_id": LOCATION_ID, "location_name": LOCATION_NAME,
         "quantity_adjusted": rng.choice((-3, -1, 2, 5, 10))}
        for item in rng.sample(gen.items, min(2, len(gen.items)))
    ]
    return stamp({
        "inventory_adjustment_id": entity_id("inventory_adjustments", index),
        "date": format_date(created), "reason": "Stocktake", "description": "Yearly count",
        "adjustment_type": "quantity", "reference_number": f"ADJ-{index:06d}",
        "status": "adjusted", "location_id": LOCATION_ID, "location_name": LOCATION_NAME,
        "line_items": lines,
    }, created, modified)


MAKERS: dict[str, Maker] = {
    "invoices": make_invoice, "bills": make_bill, "creditnotes": make_creditnote,
    "salesorders": make_salesorder, "pricebooks": make_pricebook,
    "inventory_adjustments": make_adjustment,
}


def generate_all(seed: int, counts: dict[str, int]) -> dict[str, list[Record]]:
    """Every entity's records for ``seed``; ``counts`` maps entity name to size."""
    item_rng, contact_rng = seeded(seed, "items"), seeded(seed, "contacts")
    items = [make_item(item_rng, i) for i in range(counts.get("items", 0))]
    contacts = [make_contact(contact_rng, i) for i in range(counts.get("contacts", 0))]
    gen = Generator(seed, items, contacts)
    records: dict[str, list[Any]] = {"items": items, "contacts": contacts}
    for entity, maker in MAKERS.items():
        rng = gen.rng(entity)
        records[entity] = [maker(gen, rng, i) for i in range(counts.get(entity, 0))]
    return records
