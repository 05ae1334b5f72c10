"""One declarative class per Zoho entity TDS syncs.

Each entity is a handful of class attributes over :class:`Entity`, whose
methods are the override points, used only where Zoho differs (stock moves
by inventory adjustment, price books carry their items). The registry
:data:`ENTITIES` drives the webhook routes, the Celery queues and tasks, the
beat schedule and the CLI: adding an entity is one class here and a migration
for its table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, cast

from marshmallow import ValidationError
from sqlalchemy import Table
from sqlalchemy.orm import Session

from tds.db import write
from tds.db.models import (
    Base,
    Bill,
    CreditNote,
    Customer,
    Invoice,
    PriceList,
    PriceListItem,
    Product,
    StockLevel,
)
from tds.errors import TDSError
from tds.mapping import (
    BillSchema,
    CreditNoteSchema,
    CustomerSchema,
    InvoiceSchema,
    PriceListItemSchema,
    PriceListSchema,
    ProductSchema,
    StockSchema,
    ZohoSchema,
    parse_zoho_time,
    row_loader,
)
from tds.pages import SourcePage

log = logging.getLogger("tds.entities")
Document = dict[str, Any]
ORDERS_QUEUE = "tds.orders"
MAINTENANCE_QUEUE = "tds.maintenance"


class UnusableDocumentError(TDSError):
    """A Zoho document cannot be mapped to our columns (retrying will not help)."""


@dataclass(frozen=True)
class Resolution:
    """What an event stands for: documents complete enough to write, ids to fetch."""

    documents: list[Document] = field(default_factory=list)
    fetch_ids: list[str] = field(default_factory=list)


class Entity:
    """How one Zoho entity is named, fetched, mapped and stored.

    Subclasses set the attributes; the methods below them are override points.
    """

    name: ClassVar[str]  # our name: queue `tds.<name>`, CLI argument
    webhook: ClassVar[str]  # the path segment in /api/zoho/webhooks/<webhook>
    path: ClassVar[str]  # Zoho Books path, e.g. "/items"
    list_key: ClassVar[str]  # key of the list in Zoho's list answer
    single_key: ClassVar[str]  # key of the object in Zoho's get answer
    id_field: ClassVar[str]  # Zoho's id field
    model: ClassVar[type[Base]]
    schema: ClassVar[type[ZohoSchema]]
    modified_field: ClassVar[str] = "last_modified_time"
    inventory: ClassVar[bool] = False  # synced often (stock, prices)
    list_params: ClassVar[tuple[tuple[str, str], ...]] = ()  # fixed filters on every list call
    modified_filter: ClassVar[bool] = True  # Zoho filters lists by last_modified_time
    required_fields: ClassVar[tuple[str, ...]] = ()  # a webhook without them triggers a fetch
    event_key: ClassVar[str] = ""  # the webhook's wrapper key when it is not `single_key`
    event_id_field: ClassVar[str] = ""  # the webhook's id field when it is not `id_field`

    def __repr__(self) -> str:
        return f"<entity {self.name}>"

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)

    @property
    def queue(self) -> str:
        return f"tds.{self.name}"

    @property
    def event_task(self) -> str:
        """The Celery task that applies one inbox event of this entity."""
        return f"{self.queue}.apply_event"

    @property
    def id_fields(self) -> tuple[str, ...]:
        """The id fields a webhook of this entity may carry, preferred first."""
        return tuple(dict.fromkeys(name for name in (self.event_id_field, self.id_field)
                                   if name))

    @property
    def wrapper_keys(self) -> tuple[str, ...]:
        """The keys a webhook of this entity may wrap its record in."""
        return tuple(dict.fromkeys(key for key in (self.event_key, self.single_key) if key))

    def record_path(self, zoho_id: str) -> str:
        return f"{self.path}/{zoho_id}"

    # --- override points -------------------------------------------------

    def unwrap(self, payload: Mapping[str, Any]) -> Any:
        """The record inside a webhook body: the body itself when it carries an id
        field, else what its wrapper key holds (``{"item": {...}}``), else the body."""
        if any(name in payload for name in self.id_fields):
            return payload
        for key in self.wrapper_keys:
            if key in payload:
                return payload[key]
        return payload

    def accepts(self, document: Mapping[str, Any]) -> bool:
        """Whether a document belongs in this entity's table at all."""
        return True

    def is_complete(self, document: Mapping[str, Any]) -> bool:
        """Whether a webhook record can be written without fetching it."""
        needed = (self.id_field, self.modified_field, *self.required_fields)
        return all(document.get(name) not in (None, "") for name in needed)

    def resolve_event(self, record: Mapping[str, Any], zoho_id: str) -> Resolution:
        """Split an event's record into documents to write and ids Zoho must give."""
        if self.is_complete(record):
            return Resolution(documents=[dict(record)])
        return Resolution(fetch_ids=[str(record.get(self.id_field) or zoho_id)])

    def write_children(self, session: Session, organization_id: str,
                       documents: Sequence[Mapping[str, Any]]) -> None:
        """Rewrite rows that hang off the written documents (none by default)."""

    # --- rows ----------------------------------------------------------------

    def row(self, organization_id: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """The table row for one document; raises :class:`UnusableDocumentError`."""
        zoho_id = document.get(self.id_field)
        if zoho_id in (None, ""):
            raise UnusableDocumentError(f"{self.name} document has no {self.id_field}.")
        try:
            # Every row carries every column, so one batch is one statement shape.
            columns = row_loader(self.schema)(document)
        except ValidationError as error:
            raise UnusableDocumentError(f"{self.name} {zoho_id}: {error.messages}") from None
        # The document itself, not a copy: a bulk writer finds it in its source page.
        stored = document if type(document) is dict else dict(document)
        return {**columns, "organization_id": organization_id, "zoho_id": str(zoho_id),
                "document": stored, "deleted_at": None}

    def rows(self, organization_id: str, documents: Iterable[Mapping[str, Any]],
             strict: bool = False) -> list[dict[str, Any]]:
        """Rows for the documents this entity accepts; unusable ones are logged and skipped
        (or raised when `strict`, as for an event that must not be silently dropped)."""
        result = []
        for document in documents:
            if not self.accepts(document):
                continue
            try:
                result.append(self.row(organization_id, document))
            except UnusableDocumentError as error:
                if strict:
                    raise
                log.warning("skipped an unusable document", extra={"error": str(error)})
        return result

    def write(self, session: Session, organization_id: str,
              documents: Sequence[Mapping[str, Any]], *, strict: bool = False,
              skip_unchanged: bool = True) -> int:
        """Upsert `documents` under the version guard, then their children; rows written.

        Bulk passes skip rows stored at the same version; an event (or its replay)
        applies an equal version again (`skip_unchanged` False)."""
        rows = self.rows(organization_id, documents, strict)
        source = documents if isinstance(documents, SourcePage) else None
        written = write.write_rows(session, self.table, rows, skip_unchanged=skip_unchanged,
                                   source=source)
        self.write_children(session, organization_id, documents)
        return written


class Products(Entity):
    name = webhook = "products"
    path, list_key, single_key, id_field = "/items", "items", "item", "item_id"
    model, schema = Product, ProductSchema
    required_fields = ("name",)


class Customers(Entity):
    """Contacts, of which only customers are synced (vendors share the endpoint)."""

    name = webhook = "customers"
    path, list_key, single_key, id_field = "/contacts", "contacts", "contact", "contact_id"
    model, schema = Customer, CustomerSchema
    list_params = (("contact_type", "customer"),)
    required_fields = ("contact_name",)

    def accepts(self, document: Mapping[str, Any]) -> bool:
        return document.get("contact_type") in (None, "", "customer")


class Invoices(Entity):
    name = webhook = "invoices"
    path, list_key, single_key, id_field = "/invoices", "invoices", "invoice", "invoice_id"
    model, schema = Invoice, InvoiceSchema
    required_fields = ("invoice_number", "status", "total")


class Bills(Entity):
    name = webhook = "bills"
    path, list_key, single_key, id_field = "/bills", "bills", "bill", "bill_id"
    model, schema = Bill, BillSchema
    required_fields = ("bill_number", "status", "total")


class CreditNotes(Entity):
    name, webhook = "credit_notes", "credit-notes"
    path, list_key, single_key, id_field = ("/creditnotes", "creditnotes", "creditnote",
                                            "creditnote_id")
    model, schema = CreditNote, CreditNoteSchema
    required_fields = ("creditnote_number", "status", "total")


class Stock(Entity):
    """Stock levels are items' stock fields; a stock webhook is usually an inventory
    adjustment whose lines name the items that moved. Items' last_modified_time
    filter is undocumented but honoured in practice."""

    name = webhook = "stock"
    path, list_key, single_key, id_field = "/items", "items", "item", "item_id"
    model, schema = StockLevel, StockSchema
    inventory = True
    required_fields = ("stock_on_hand",)
    event_key, event_id_field = "inventory_adjustment", "inventory_adjustment_id"

    def resolve_event(self, record: Mapping[str, Any], zoho_id: str) -> Resolution:
        if record.get(self.id_field) and self.is_complete(record):
            return Resolution(documents=[dict(record)])
        lines = record.get("line_items")
        if isinstance(lines, list):
            ids = {str(line["item_id"]) for line in lines
                   if isinstance(line, dict) and line.get("item_id")}
            return Resolution(fetch_ids=sorted(ids))
        return Resolution(fetch_ids=[str(record.get(self.id_field) or zoho_id)])


class PriceLists(Entity):
    """Price books; their `pricebook_items` replace the price list's item rows. They
    have no documented modified filter: an incremental pass is a full one."""

    name = webhook = "prices"
    path, list_key, single_key, id_field = ("/pricebooks", "pricebooks", "pricebook",
                                            "pricebook_id")
    model, schema = PriceList, PriceListSchema
    inventory = True
    modified_filter = False
    required_fields = ("name",)

    def write_children(self, session: Session, organization_id: str,
                       documents: Sequence[Mapping[str, Any]]) -> None:
        items: dict[str, tuple[datetime | None, list[dict[str, Any]]]] = {}
        load = row_loader(PriceListItemSchema)
        for document in documents:
            lines = document.get("pricebook_items")
            if not isinstance(lines, list) or not document.get(self.id_field):
                continue  # a list view without items leaves the stored items alone
            rates = {str(line["item_id"]): load(line)["pricebook_rate"] for line in lines
                     if isinstance(line, dict) and line.get("item_id")}
            items[str(document[self.id_field])] = (
                parse_zoho_time(document.get(self.modified_field)),
                [{"item_id": item_id, "pricebook_rate": rate} for item_id, rate in rates.items()])
        write.replace_children(session, self.table, cast(Table, PriceListItem.__table__),
                               organization_id, items, parent_key="price_list_id")


ENTITIES: tuple[Entity, ...] = (Products(), Customers(), Invoices(), Bills(), CreditNotes(),
                                Stock(), PriceLists())
BY_NAME = {entity.name: entity for entity in ENTITIES}
BY_WEBHOOK = {entity.webhook: entity for entity in ENTITIES}
ALL_QUEUES = (*(entity.queue for entity in ENTITIES), ORDERS_QUEUE, MAINTENANCE_QUEUE)


def entity_named(name: str) -> Entity:
    """The entity called `name` (our name or its webhook segment); a clear error otherwise."""
    entity = BY_NAME.get(name) or BY_WEBHOOK.get(name)
    if entity is None:
        raise TDSError(f"unknown entity {name!r}; use one of {', '.join(BY_NAME)}.")
    return entity
