"""Seeded invoices, bills, credit notes and sales orders over the generated
items and contacts.

Each is a whole document as a single GET shows it: priced ``line_items``,
``sub_total``, ``tax_total``, ``taxes``, the party's addresses. Amount types
follow Zoho's published response schemas even where they are odd (invoice
totals are strings, bill totals whole numbers, bill and credit-note tax
amounts strings), because the schemas are what a client is written against.
"""

from __future__ import annotations

import random

from tds.sandbox.clock import format_date
from tds.sandbox.data import (
    CURRENCY_ID,
    LOCATION_ID,
    LOCATION_NAME,
    Record,
    address,
    entity_id,
    random_times,
    seeded,
    stamp,
)
from tds.sandbox.lines import NO_TAX, SALES_TAX, line_item, totals

NO_ADDRESS = address("", "", "", "", "", "")


class Generator:
    """Builds transactions from a seed over the organization's items and contacts."""

    def __init__(self, seed: int, items: list[Record], contacts: list[Record]) -> None:
        self.seed = seed
        self.items = items
        self.customers = [c for c in contacts if c["contact_type"] == "customer"] or [{
            "contact_id": entity_id("contacts", 0), "contact_name": "Walk-in Customer"}]
        self.vendors = [c for c in contacts if c["contact_type"] == "vendor"] or [{
            "contact_id": entity_id("contacts", 1), "contact_name": "General Supplier"}]
        self.line_counter = 0

    def rng(self, entity: str) -> random.Random:
        return seeded(self.seed, entity)

    def line_items(self, rng: random.Random, count: int) -> list[Record]:
        lines = []
        for _ in range(count):
            item = rng.choice(self.items) if self.items else {"item_id": "", "name": "Service"}
            self.line_counter += 1
            lines.append(line_item(
                entity_id("line_items", self.line_counter), item, rng.randrange(1, 10),
                float(item.get("rate", 10.0)), discount=rng.choice((0, 0, 0, 5)),
                tax=rng.choice((SALES_TAX, NO_TAX))))
        return lines

    def document(self, rng: random.Random, entity: str, index: int, party: Record,
                 prefix: str) -> tuple[Record, Record]:
        """The fields the four transactions share, and their lines' totals."""
        created, modified = random_times(rng)
        lines = self.line_items(rng, rng.randrange(1, 4))
        record = stamp({
            f"{entity}_id": "", "reference_number": f"REF-{prefix}-{index:06d}",
            "date": format_date(created), "currency_id": CURRENCY_ID, "currency_code": "USD",
            "exchange_rate": 1.0, "location_id": LOCATION_ID, "location_name": LOCATION_NAME,
            "line_items": lines, "billing_address": party.get("billing_address", NO_ADDRESS),
            "shipping_address": party.get("shipping_address", NO_ADDRESS),
            "notes": "Thanks for your business.", "terms": "", "price_precision": 2,
        }, created, modified)
        if entity == "bill":
            record.update({"vendor_id": party["contact_id"], "vendor_name": party["contact_name"]})
        else:
            record.update({"customer_id": party["contact_id"],
                           "customer_name": party["contact_name"]})
        return record, totals(lines)


def make_invoice(gen: Generator, rng: random.Random, index: int) -> Record:
    record, sums = gen.document(rng, "invoice", index, rng.choice(gen.customers), "INV")
    status = rng.choice(("draft", "sent", "overdue", "paid"))
    record.update({
        "invoice_id": entity_id("invoices", index), "invoice_number": f"INV-{index:06d}",
        "status": status, "due_date": record["date"], "payment_terms": 30,
        "payment_terms_label": "Net 30", **sums, "total": f"{sums['total']:.2f}",
        "balance": "0.00" if status == "paid" else f"{sums['total']:.2f}",
        "is_emailed": status != "draft", "reminders_sent": 0, "adjustment": 0.0,
        "custom_fields": [],
    })
    return record


def make_bill(gen: Generator, rng: random.Random, index: int) -> Record:
    record, sums = gen.document(rng, "bill", index, rng.choice(gen.vendors), "BILL")
    status = rng.choice(("open", "overdue", "paid"))
    for line in record["line_items"]:
        line["item_total"] = round(line["item_total"])
    sub_total = sum(line["item_total"] for line in record["line_items"])
    tax_total = round(sums["tax_total"])
    record.update({
        "bill_id": entity_id("bills", index), "bill_number": f"BILL-{index:06d}",
        "status": status, "due_date": record["date"], "sub_total": sub_total,
        "tax_total": tax_total, "total": sub_total + tax_total,
        "balance": 0 if status == "paid" else sub_total + tax_total,
        "taxes": [_text_amount(tax) for tax in sums["taxes"]],
        "custom_fields": [{"custom_field_id": "460000000000901", "index": 1,
                           "label": "Cost Centre", "value": f"CC-{index % 7:02d}"}],
    })
    return record


def make_creditnote(gen: Generator, rng: random.Random, index: int) -> Record:
    record, sums = gen.document(rng, "creditnote", index, rng.choice(gen.customers), "CN")
    status = rng.choice(("open", "closed"))
    record.update({
        "creditnote_id": entity_id("creditnotes", index), "creditnote_number": f"CN-{index:06d}",
        "status": status, **sums, "taxes": [_text_amount(tax) for tax in sums["taxes"]],
        "balance": 0.0 if status == "closed" else sums["total"], "is_emailed": False,
    })
    return record


def make_salesorder(gen: Generator, rng: random.Random, index: int) -> Record:
    record, sums = gen.document(rng, "salesorder", index, rng.choice(gen.customers), "SO")
    record.update({
        # The series API creates go on with (the store counts on from the generated ones).
        "salesorder_id": entity_id("salesorders", index),
        "salesorder_number": f"SO-{index + 1:05d}",
        "status": rng.choice(("draft", "open", "invoiced")), "shipment_date": record["date"],
        **sums, "bcy_total": sums["total"], "is_emailed": False, "has_attachment": False,
        "custom_fields": [],
    })
    return record


def _text_amount(tax: Record) -> Record:
    return {**tax, "tax_amount": f"{tax['tax_amount']:.2f}"}
