"""A seeded, deterministic generator of Zoho-shaped items and contacts, and the
ids, times and locations every generated record shares.

Same seed and counts, same records, field for field: tests compare two runs
and benchmarks regenerate the same organization. Records are plain dicts
holding what a single GET shows (the list view is cut from them), shaped
after Zoho's OpenAPI response schemas. Each entity draws from its own random
stream, so changing one count does not change another entity's records.
"""

from __future__ import annotations

import random
from typing import Any

from tds.sandbox.clock import format_time

Record = dict[str, Any]

BASE_EPOCH = 1_700_000_000  # 2023-11-14: generated history ends here.
YEAR = 365 * 86400
CURRENCY_ID = "460000000000099"
LOCATION_ID = "460000000000777"  # the organization's primary location
LOCATION_NAME = "Head Office"
WAREHOUSE_ID = "460000000000778"
LOCATIONS = {LOCATION_ID: LOCATION_NAME, WAREHOUSE_ID: "Warehouse"}
ID_BASES = {
    "items": 460_000_000_100_000, "contacts": 460_000_000_200_000,
    "invoices": 460_000_000_300_000, "bills": 460_000_000_400_000,
    "creditnotes": 460_000_000_500_000, "salesorders": 460_000_000_600_000,
    "pricebooks": 460_000_000_700_000, "inventory_adjustments": 460_000_000_800_000,
    "line_items": 460_000_001_000_000, "contact_persons": 460_000_001_100_000,
    "pricebook_items": 460_000_001_200_000,
}
ADJECTIVES = ("Steel", "Brass", "Oak", "Glass", "Carbon", "Copper", "Nylon", "Ceramic")
NOUNS = ("Bolt", "Hinge", "Bracket", "Valve", "Panel", "Cable", "Sensor", "Drive")
FIRST_NAMES = ("Asha", "Ben", "Chen", "Dara", "Eli", "Femi", "Gita", "Hugo")
LAST_NAMES = ("Iyer", "Jones", "Kato", "Lopez", "Moreau", "Novak", "Okafor", "Park")
CITIES = (("Pleasanton", "CA", "94588"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
          ("Portland", "OR", "97201"), ("Boston", "MA", "02108"))
# Fields every generated item shares: one dict merged in, cheaper than literals per item.
ITEM_CONSTANTS = {
    "unit": "pcs", "tax_id": "", "tax_name": "", "tax_percentage": "0", "tax_type": "",
    "product_type": "goods", "item_type": "inventory", "hsn_or_sac": "", "is_taxable": True,
    "account_id": "460000000000388", "account_name": "Sales",
    "purchase_account_id": "460000000000509", "purchase_account_name": "Cost of Goods Sold",
    "inventory_account_id": "460000000000515", "inventory_account_name": "Inventory Asset",
}


def seeded(seed: int, stream: str) -> random.Random:
    """A random stream of its own for ``stream``, reproducible from ``seed``."""
    return random.Random(f"{seed}:{stream}")  # noqa: S311 - simulated data, not security.


def entity_id(entity: str, index: int) -> str:
    """The digit-string id of an entity's ``index``-th record."""
    return str(ID_BASES[entity] * 10_000 + index)


def below(rng: random.Random, bound: int) -> int:
    """A whole number in ``[0, bound)``: randrange's job at a fraction of its cost, which
    dominated generating 100,000 items."""
    return int(rng.random() * bound)


def random_times(rng: random.Random) -> tuple[int, int]:
    """A created and a last-modified time in the year before BASE_EPOCH."""
    created = BASE_EPOCH - below(rng, YEAR)
    return created, min(BASE_EPOCH, created + below(rng, 30 * 86400))


def stamp(record: Record, created: int, modified: int) -> Record:
    """Set ``created_time`` and ``last_modified_time`` in Zoho's format."""
    record["created_time"] = format_time(created)
    record["last_modified_time"] = format_time(modified)
    return record


def stock_text(quantity: float) -> str:
    """A stock figure as items' ``locations`` carry it: Zoho's item schema types the
    per-location stock as a string (``"12"``), unlike the item's own numbers."""
    return str(int(quantity)) if float(quantity).is_integer() else str(quantity)


def location_stock(location_id: str, quantity: float, *, primary: bool) -> Record:
    """One entry of an item's ``locations``: ``quantity`` on hand and available."""
    return _location(location_id, primary, stock_text(quantity))


def _location(location_id: str, primary: bool, text: str) -> Record:
    return {"location_id": location_id, "location_name": LOCATIONS.get(location_id, ""),
            "status": "active", "is_primary": primary, "location_stock_on_hand": text,
            "location_available_stock": text, "location_actual_available_stock": text}


def make_item(rng: random.Random, index: int) -> Record:
    stock = below(rng, 500)
    stored = below(rng, stock + 1)  # the part of the stock kept in the warehouse
    created, modified = random_times(rng)
    name = f"{ADJECTIVES[below(rng, len(ADJECTIVES))]} {NOUNS[below(rng, len(NOUNS))]} {index:06d}"
    return stamp({
        "item_id": entity_id("items", index), "name": name, "status": "active",
        "description": f"{name}, sold by the piece", "rate": (100 + below(rng, 99_900)) / 100,
        "purchase_rate": (50 + below(rng, 49_950)) / 100, "sku": f"SKU-{index:06d}",
        **ITEM_CONSTANTS, "purchase_description": f"{name}, bought by the box",
        "reorder_level": 10, "stock_on_hand": stock, "available_stock": stock,
        "actual_available_stock": stock,
        "locations": [_location(LOCATION_ID, True, str(stock - stored)),
                      _location(WAREHOUSE_ID, False, str(stored))],
    }, created, modified)


def make_contact(rng: random.Random, index: int) -> Record:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    created, modified = random_times(rng)
    company = f"{last} & {rng.choice(NOUNS)} Co {index:05d}"
    email = f"{first.lower()}.{last.lower()}{index}@example.com"
    phone = f"+1-555-{index % 10_000:04d}"
    city, state, zip_code = rng.choice(CITIES)
    street = f"{rng.randrange(1, 9000)} Market Street"
    return stamp({
        "contact_id": entity_id("contacts", index), "contact_name": company,
        "company_name": company,
        # One contact in four is a vendor, so bills have someone to come from.
        "contact_type": "vendor" if index % 4 == 3 else "customer",
        "customer_sub_type": "business", "status": "active", "payment_terms": 30,
        "payment_terms_label": "Net 30", "currency_id": CURRENCY_ID, "currency_code": "USD",
        "outstanding_receivable_amount": rng.randrange(5000),
        "unused_credits_receivable_amount": 0, "first_name": first, "last_name": last,
        "email": email, "phone": phone, "mobile": "", "website": "", "notes": "",
        "billing_address": address(f"{first} {last}", street, city, state, zip_code, phone),
        "shipping_address": address(company, street, city, state, zip_code, phone),
        "contact_persons": [{
            "contact_person_id": entity_id("contact_persons", index), "salutation": "",
            "first_name": first, "last_name": last, "email": email, "phone": phone,
            "mobile": "", "designation": "Purchasing", "department": "",
            "is_primary_contact": True,
        }],
    }, created, modified)


def address(attention: str, street: str, city: str, state: str, zip_code: str,
            phone: str) -> Record:
    """A billing or shipping address as Zoho's contact and transaction schemas show it."""
    return {"attention": attention, "address": street, "street2": "", "city": city,
            "state": state, "zip": zip_code, "country": "U.S.A", "fax": "", "phone": phone}
