"""One declarative spec per Zoho entity TDS syncs.

The registry drives the webhook routes, the Celery queues and tasks, the
beat schedule and the CLI. Adding an entity is one declaration here and a
migration for its table. :class:`EntitySpec` is mostly attributes; the few
methods are override points used only where Zoho differs (stock moves by
inventory adjustment, price books carry their items).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session

from tds import records
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
from tds.db.row_upsert import upsert_rows
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


@cache
def _schema(schema: type[Schema]) -> Schema:
    return schema()


class UnusableDocumentError(TDSError):
    """A Zoho document cannot be mapped to our columns (retrying will not help)."""


@dataclass(frozen=True)
class Resolution:
    """What an event stands for: documents complete enough to write, ids to fetch."""

    documents: list[Document] = field(default_factory=list)
    fetch_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EntitySpec:
    """How one Zoho entity is named, fetched, mapped and stored."""

    name: str  # our name: queue `tds.<name>`, CLI argument
    webhook: str  # the path segment in /api/zoho/webhooks/<webhook>
    path: str  # Zoho Books path, e.g. "/items"
    list_key: str  # key of the list in Zoho's list answer
    single_key: str  # key of the object in Zoho's get answer
    id_field: str  # Zoho's id field
    model: type[Base]
    schema: type[ZohoSchema] = ZohoSchema
    modified_field: str = "last_modified_time"
    inventory: bool = False  # synced often (stock, prices)
    list_params: tuple[tuple[str, str], ...] = ()  # fixed filters on every list call
    modified_filter: bool = True  # Zoho filters lists by last_modified_time
    required_fields: tuple[str, ...] = ()  # a webhook without them triggers a fetch
    event_key: str = ""  # the webhook's wrapper key when it is not `single_key`
    event_id_field: str = ""  # the webhook's id field when it is not `id_field`

    @property
    def queue(self) -> str:
        return f"tds.{self.name}"

    @property
    def event_task(self) -> str:
        """The Celery task that applies one inbox event of this entity."""
        return f"{self.queue}.apply_event"

    def record_path(self, zoho_id: str) -> str:
        return f"{self.path}/{zoho_id}"

    # --- override points -------------------------------------------------

    def unwrap(self, payload: Mapping[str, Any]) -> Document:
        """The record inside a webhook body (`{"item": {...}}` or the bare object)."""
        for key in (self.event_key, self.single_key):
            inner = payload.get(key) if key else None
            if isinstance(inner, dict):
                return inner
        return dict(payload)

    def accepts(self, document: Mapping[str, Any]) -> bool:
        """Whether a document belongs in this entity's table at all."""
        return True

    def is_complete(self, document: Mapping[str, Any]) -> bool:
        """Whether a webhook document can be written without fetching the record."""
        needed = (self.id_field, self.modified_field, *self.required_fields)
        return all(document.get(name) not in (None, "") for name in needed)

    def resolve_event(self, payload: Mapping[str, Any], zoho_id: str) -> Resolution:
        """Split an event into documents to write and ids whose record Zoho must give."""
        document = self.unwrap(payload)
        if self.is_complete(document):
            return Resolution(documents=[document])
        return Resolution(fetch_ids=[str(document.get(self.id_field) or zoho_id)])

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
              documents: Iterable[Mapping[str, Any]], strict: bool = False,
              skip_unchanged: bool = True) -> int:
        """Upsert documents, guarded by last_modified_time. Bulk passes skip rows stored
        at the same version; an event (or its replay) re-applies an equal version."""
        rows = self.rows(organization_id, documents, strict)
        if skip_unchanged:
            source = documents if isinstance(documents, SourcePage) else None
            return records.write_rows(session, self.model, rows, source)
        return upsert_rows(session, self.model, rows)


@dataclass(frozen=True)
class CustomerSpec(EntitySpec):
    """Contacts, of which only customers are synced (vendors share the endpoint)."""

    def accepts(self, document: Mapping[str, Any]) -> bool:
        return document.get("contact_type") in (None, "", "customer")


@dataclass(frozen=True)
class StockSpec(EntitySpec):
    """Stock levels are items' stock fields; a stock webhook is usually an
    inventory adjustment whose lines name the items that moved."""

    def resolve_event(self, payload: Mapping[str, Any], zoho_id: str) -> Resolution:
        document = self.unwrap(payload)
        if document.get(self.id_field) and self.is_complete(document):
            return Resolution(documents=[document])
        lines = document.get("line_items")
        if isinstance(lines, list):
            ids = {str(line["item_id"]) for line in lines
                   if isinstance(line, dict) and line.get("item_id")}
            return Resolution(fetch_ids=sorted(ids))
        return Resolution(fetch_ids=[str(document.get(self.id_field) or zoho_id)])


@dataclass(frozen=True)
class PriceSpec(EntitySpec):
    """Price books; their `pricebook_items` replace the price list's item rows."""

    def write(self, session: Session, organization_id: str,
              documents: Iterable[Mapping[str, Any]], strict: bool = False,
              skip_unchanged: bool = True) -> int:
        documents = [d for d in documents if self.accepts(d)]
        written = super().write(session, organization_id, documents, strict, skip_unchanged)
        items: dict[str, tuple[datetime | None, list[dict[str, Any]]]] = {}
        for document in documents:
            lines = document.get("pricebook_items")
            if not isinstance(lines, list) or not document.get(self.id_field):
                continue  # a list view without items leaves the stored items alone
            loaded = [_schema(PriceListItemSchema).load(line) for line in lines
                      if isinstance(line, dict) and line.get("item_id")]
            version = parse_zoho_time(document.get(self.modified_field))
            items[str(document[self.id_field])] = (version, loaded)
        records.replace_price_list_items(session, organization_id, items)
        return written


ENTITIES: tuple[EntitySpec, ...] = (
    EntitySpec("products", "products", "/items", "items", "item", "item_id", Product,
               ProductSchema, required_fields=("name",)),
    CustomerSpec("customers", "customers", "/contacts", "contacts", "contact", "contact_id",
                 Customer, CustomerSchema, list_params=(("contact_type", "customer"),),
                 required_fields=("contact_name",)),
    EntitySpec("invoices", "invoices", "/invoices", "invoices", "invoice", "invoice_id", Invoice,
               InvoiceSchema, required_fields=("invoice_number", "status", "total")),
    EntitySpec("bills", "bills", "/bills", "bills", "bill", "bill_id", Bill, BillSchema,
               required_fields=("bill_number", "status", "total")),
    EntitySpec("credit_notes", "credit-notes", "/creditnotes", "creditnotes", "creditnote",
               "creditnote_id", CreditNote, CreditNoteSchema,
               required_fields=("creditnote_number", "status", "total")),
    # Items' last_modified_time filter is undocumented but honoured in practice.
    StockSpec("stock", "stock", "/items", "items", "item", "item_id", StockLevel, StockSchema,
              inventory=True, required_fields=("stock_on_hand",),
              event_key="inventory_adjustment", event_id_field="inventory_adjustment_id"),
    # Price books have no documented modified filter: incremental is a full pass.
    PriceSpec("prices", "prices", "/pricebooks", "pricebooks", "pricebook", "pricebook_id",
              PriceList, PriceListSchema, inventory=True, modified_filter=False,
              required_fields=("name",)),
)
BY_NAME = {spec.name: spec for spec in ENTITIES}
BY_WEBHOOK = {spec.webhook: spec for spec in ENTITIES}
ORDERS_QUEUE = "tds.orders"
MAINTENANCE_QUEUE = "tds.maintenance"
ALL_QUEUES = (*(spec.queue for spec in ENTITIES), ORDERS_QUEUE, MAINTENANCE_QUEUE)


def spec_for(name: str) -> EntitySpec:
    """The spec named `name` (our name or the webhook segment); a clear error otherwise."""
    spec = BY_NAME.get(name) or BY_WEBHOOK.get(name)
    if spec is None:
        raise TDSError(f"unknown entity {name!r}; use one of {', '.join(BY_NAME)}.")
    return spec
