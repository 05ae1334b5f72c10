"""One declarative spec per Zoho entity TDS syncs.

The registry drives the webhook routes, the Celery queues and tasks, the
beat schedule and the CLI. Adding an entity is one declaration here and a
migration for its table.
"""

from __future__ import annotations

from dataclasses import dataclass

from tds.db.models import (
    Base,
    Bill,
    CreditNote,
    Customer,
    Invoice,
    PriceList,
    Product,
    StockLevel,
)


@dataclass(frozen=True)
class EntitySpec:
    """How one Zoho entity is named, fetched and stored."""

    name: str  # our name: queue `tds.<name>`, CLI argument
    webhook: str  # the path segment in /api/zoho/webhooks/<webhook>
    path: str  # Zoho Books path, e.g. "/items"
    list_key: str  # key of the list in Zoho's list answer
    single_key: str  # key of the object in Zoho's get answer
    id_field: str  # Zoho's id field
    model: type[Base]
    modified_field: str = "last_modified_time"
    inventory: bool = False  # synced often (stock, prices)

    @property
    def queue(self) -> str:
        return f"tds.{self.name}"

    @property
    def event_task(self) -> str:
        """The Celery task that applies one inbox event of this entity."""
        return f"{self.queue}.apply_event"


ENTITIES: tuple[EntitySpec, ...] = (
    EntitySpec("products", "products", "/items", "items", "item", "item_id", Product),
    EntitySpec("customers", "customers", "/contacts", "contacts", "contact", "contact_id",
               Customer),
    EntitySpec("invoices", "invoices", "/invoices", "invoices", "invoice", "invoice_id", Invoice),
    EntitySpec("bills", "bills", "/bills", "bills", "bill", "bill_id", Bill),
    EntitySpec("credit_notes", "credit-notes", "/creditnotes", "creditnotes", "creditnote",
               "creditnote_id", CreditNote),
    EntitySpec("stock", "stock", "/items", "items", "item", "item_id", StockLevel,
               inventory=True),
    EntitySpec("prices", "prices", "/pricebooks", "pricebooks", "pricebook", "pricebook_id",
               PriceList, inventory=True),
)
BY_NAME = {spec.name: spec for spec in ENTITIES}
BY_WEBHOOK = {spec.webhook: spec for spec in ENTITIES}
ORDERS_QUEUE = "tds.orders"
MAINTENANCE_QUEUE = "tds.maintenance"
ALL_QUEUES = (*(spec.queue for spec in ENTITIES), ORDERS_QUEUE, MAINTENANCE_QUEUE)
