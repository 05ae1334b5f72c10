"""Seeded transactions (invoices, bills, credit notes, sales orders), price
books and inventory adjustments, built over the generated items and contacts.

Amount types follow Zoho's published response schemas even where they are
odd (invoice totals are strings, bill totals whole numbers), because the
schemas are what a client is written against.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tds.sandbox.clock import format_date
from tds.sandbox.data import (
    CURRENCY_ID,
    LOCATION_ID,
    Generator,
    Record,
    entity_id,
    make_contact,
    make_item,
    random_times,
    seeded,
    stamp,
)

Maker = Callable[[Generator, random.Random, int], Record]


def make_invoice(gen: Generator, rng: random.Random, index: int) -> Record:
    record, total = gen.document(rng, "invoice", index, rng.choice(gen.customers), "INV")
    status = rng.choice(("draft", "sent", "overdue", "paid"))
    record.update({
        "invoice_id": entity_id("invoices", index), "invoice_number": f"INV-{index:06d}",
        "status": status, "due_date": record["date"], "total": f"{total:.2f}",
        "balance": "0.00" if status == "paid" else f"{total:.2f}", "sub_total": total,
        "tax_total": 0.0, "is_emailed": status != "draft", "reminders_sent": 0,
        "exchange_rate": 1.0, "adjustment": 0.0,
    })
    return record


def make_bill(gen: Generator, rng: random.Random, index: int) -> Record:
    record, total = gen.document(rng, "bill", index, rng.choice(gen.vendors), "BILL")
    status = rng.choice(("open", "overdue", "paid"))
    whole = round(total)
    record.update({
        "bill_id": entity_id("bills", index), "bill_number": f"BILL-{index:06d}",
        "status": status, "due_date": record["date"], "total": whole, "sub_total": whole,
        "tax_total": 0, "balance": 0 if status == "paid" else whole, "price_precision": 2,
        "exchange_rate": 1.0,
    })
    for line in record["line_items"]:
        line["item_total"] = round(line["item_total"])
    return record


def make_creditnote(gen: Generator, rng: random.Random, index: int) -> Record:
    record, total = gen.document(rng, "creditnote", index, rng.choice(gen.customers), "CN")
    status = rng.choice(("open", "closed"))
    record.update({
        "creditnote_id": entity_id("creditnotes", index), "creditnote_number": f"CN-{index:06d}",
        "status": status, "total": total, "balance": 0.0 if status == "closed" else total,
        "is_emailed": False,
    })
    return record


def make_salesorder(gen: Generator, rng: random.Random, index: int) -> Record:
    record, total = gen.document(rng, "salesorder", index, rng.choice(gen.customers), "SO")
    record.update({
        "salesorder_id": entity_id("salesorders", index), "salesorder_number": f"SO-{index:06d}",
        "status": rng.choice(("draft", "open", "invoiced")), "shipment_date": record["date"],
        "total": total, "sub_total": total, "bcy_total": total, "is_emailed": False,
        "has_attachment": False,
    })
    return record


def make_pricebook(gen: Generator, rng: random.Random, index: int) -> Record:
    created, modified = random_times(rng)
    chosen = rng.sample(gen.items, min(5, len(gen.items)))
    return stamp({
        "pricebook_id": entity_id("pricebooks", index), "name": f"Price List {index:03d}",
        "description": "Negotiated rates", "currency_id": CURRENCY_ID, "currency_code": "USD",
        "decimal_place": 2, "is_default": False, "is_increase": False, "percentage": 0.0,
        "pricebook_type": "per_item", "pricing_scheme": "unit", "rounding_type": "no_rounding",
        "sales_or_purchase_type": "sales", "status": "active",
        "pricebook_items": [_pricebook_item(rng, item) for item in chosen],
    }, created, modified)


def _pricebook_item(rng: random.Random, item: Record) -> Record:
    return {"item_id": item["item_id"], "pricing_scheme": "unit",
            "pricebook_rate": round(item["rate"] * rng.uniform(0.8, 1.0), 2)}


def make_adjustment(gen: Generator, rng: random.Random, index: int) -> Record:
    created, modified = random_times(rng)
    lines = [
        {"item_id": item["item_id"], "name": item["name"], "location_id": LOCATION_ID,
         "quantity_adjusted": rng.choice((-3, -1, 2, 5, 10))}
        for item in rng.sample(gen.items, min(2, len(gen.items)))
    ]
    return stamp({
        "inventory_adjustment_id": entity_id("inventory_adjustments", index),
        "date": format_date(created), "reason": "Stocktake", "adjustment_type": "quantity",
        "reference_number": f"ADJ-{index:06d}", "status": "adjusted", "line_items": lines,
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
