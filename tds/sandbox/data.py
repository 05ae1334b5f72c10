"""A seeded, deterministic generator of Zoho-shaped records.

Same seed and counts, same records, field for field: tests compare two runs
and benchmarks regenerate the same organization. Records are plain dicts
with only the fields Zoho's documents show, so 100,000 items stay quick to
build and small in memory. Each entity draws from its own random stream,
so changing one count does not change another entity's records.
"""

from __future__ import annotations

import random
from typing import Any

from tds.sandbox.clock import format_date, format_time

Record = dict[str, Any]

BASE_EPOCH = 1_700_000_000  # 2023-11-14: generated history ends here.
YEAR = 365 * 86400
CURRENCY_ID = "460000000000099"
LOCATION_ID = "460000000000777"
LOCATION_NAME = "Head Office"
ID_BASES = {
    "items": 460_000_000_100_000, "contacts": 460_000_000_200_000,
    "invoices": 460_000_000_300_000, "bills": 460_000_000_400_000,
    "creditnotes": 460_000_000_500_000, "salesorders": 460_000_000_600_000,
    "pricebooks": 460_000_000_700_000, "inventory_adjustments": 460_000_000_800_000,
    "line_items": 460_000_001_000_000,
}
ADJECTIVES = ("Steel", "Brass", "Oak", "Glass", "Carbon", "Copper", "Nylon", "Ceramic")
NOUNS = ("Bolt", "Hinge", "Bracket", "Valve", "Panel", "Cable", "Sensor", "Drive")
FIRST_NAMES = ("Asha", "Ben", "Chen", "Dara", "Eli", "Femi", "Gita", "Hugo")
LAST_NAMES = ("Iyer", "Jones", "Kato", "Lopez", "Moreau", "Novak", "Okafor", "Park")


def seeded(seed: int, stream: str) -> random.Random:
    """A random stream of its own for ``stream``, reproducible from ``seed``."""
    return random.Random(f"{seed}:{stream}")  # noqa: S311 - simulated data, not security.


def entity_id(entity: str, index: int) -> str:
    """The digit-string id of an entity's ``index``-th record."""
    return str(ID_BASES[entity] * 10_000 + index)


def random_times(rng: random.Random) -> tuple[int, int]:
    """A created and a last-modified time in the year before BASE_EPOCH."""
    created = BASE_EPOCH - rng.randrange(YEAR)
    return created, min(BASE_EPOCH, created + rng.randrange(30 * 86400))


def stamp(record: Record, created: int, modified: int) -> Record:
    """Set ``created_time`` and ``last_modified_time`` in Zoho's format."""
    record["created_time"] = format_time(created)
    record["last_modified_time"] = format_time(modified)
    return record


def make_item(rng: random.Random, index: int) -> Record:
    stock = rng.randrange(500)
    created, modified = random_times(rng)
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {index:06d}"
    return stamp({
        "item_id": entity_id("items", index), "name": name, "status": "active",
        "description": f"{name}, sold by the piece", "rate": rng.randrange(100, 100_000) / 100,
        "purchase_rate": rng.randrange(50, 50_000) / 100, "unit": "pcs", "tax_id": "",
        "tax_name": "", "tax_percentage": "0", "tax_type": "", "sku": f"SKU-{index:06d}",
        "product_type": "goods", "item_type": "inventory", "stock_on_hand": stock,
        "available_stock": stock, "actual_available_stock": stock,
    }, created, modified)


def make_contact(rng: random.Random, index: int) -> Record:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    created, modified = random_times(rng)
    company = f"{last} & {rng.choice(NOUNS)} Co {index:05d}"
    return stamp({
        "contact_id": entity_id("contacts", index), "contact_name": company,
        "company_name": company,
        # One contact in four is a vendor, so bills have someone to come from.
        "contact_type": "vendor" if index % 4 == 3 else "customer",
        "customer_sub_type": "business", "status": "active", "payment_terms": 30,
        "payment_terms_label": "Net 30", "currency_id": CURRENCY_ID, "currency_code": "USD",
        "outstanding_receivable_amount": rng.randrange(5000),
        "unused_credits_receivable_amount": 0, "first_name": first, "last_name": last,
        "email": f"{first.lower()}.{last.lower()}{index}@example.com",
        "phone": f"+1-555-{index % 10_000:04d}", "mobile": "",
    }, created, modified)


class Generator:
    """Builds an organization's records from a seed and per-entity counts."""

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
            quantity = rng.randrange(1, 10)
            rate = float(item.get("rate", 10.0))
            self.line_counter += 1
            lines.append({
                "line_item_id": entity_id("line_items", self.line_counter),
                "item_id": item["item_id"], "name": item["name"], "rate": rate,
                "quantity": quantity, "unit": "pcs", "item_total": round(rate * quantity, 2),
            })
        return lines

    def document(self, rng: random.Random, entity: str, index: int, party: Record,
                 prefix: str) -> tuple[Record, float]:
        """The fields invoices, bills, credit notes and sales orders share."""
        created, modified = random_times(rng)
        lines = self.line_items(rng, rng.randrange(1, 4))
        total = round(sum(line["item_total"] for line in lines), 2)
        record = stamp({
            f"{entity}_id": "", "reference_number": f"REF-{prefix}-{index:06d}",
            "date": format_date(created), "currency_id": CURRENCY_ID, "currency_code": "USD",
            "location_id": LOCATION_ID, "location_name": LOCATION_NAME, "line_items": lines,
        }, created, modified)
        record.update(_party_fields(entity, party))
        return record, total


def _party_fields(entity: str, party: Record) -> Record:
    if entity == "bill":
        return {"vendor_id": party["contact_id"], "vendor_name": party["contact_name"]}
    return {"customer_id": party["contact_id"], "customer_name": party["contact_name"]}
