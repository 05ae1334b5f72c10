"""One declarative class per Zoho entity TDS syncs.

Each entity is a handful of class attributes over :class:`Entity`, whose
methods are the override points, used only where Zoho differs (stock lives
per location and moves by inventory adjustment, price lists have no single
GET and carry their items). The registry :data:`ENTITIES` drives the webhook
routes, the Celery queues and tasks, the beat schedule and the CLI: adding an
entity is one class here and a migration for its table.

Zoho gives two kinds of document (``zoho-books-api.md``, "List rows are
summaries"): a list row, and the record its GET answers, several times
richer. Each row records which it holds (:class:`~tds.db.models.DocumentKind`);
a summary never takes away what a full document brought.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, cast

from marshmallow import Schema
from sqlalchemy import Table
from sqlalchemy.orm import Session

from tds.db import write
from tds.db.models import (
    Base,
    Bill,
    BillLineItem,
    CreditNote,
    CreditNoteLineItem,
    Customer,
    DocumentKind,
    Invoice,
    InvoiceLineItem,
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
    LineItemSchema,
    PriceListItemSchema,
    PriceListSchema,
    ProductSchema,
    StockLocationSchema,
    StockSchema,
    ZohoSchema,
    load_tolerantly,
    parse_zoho_time,
)
from tds.pages import SourcePage
from tds.zoho.errors import ZohoNotFoundError, ZohoValidationError

log = logging.getLogger("tds.entities")
Document = dict[str, Any]
ORDERS_QUEUE = "tds.orders"
MAINTENANCE_QUEUE = "tds.maintenance"
ALL_STATUSES = ("filter_by", "Status.All")  # lists leave inactive records out without it


class ZohoReader(Protocol):
    """What entities and syncs need from :class:`tds.zoho.UnifiedZohoClient`."""

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def paginated_fetch(self, path: str, list_key: str,
                        params: Mapping[str, Any] | None = None,
                        per_page: int = 200) -> Iterator[list[dict[str, Any]]]: ...


class UnusableDocumentError(TDSError):
    """A Zoho document has no id, so it cannot be a row (retrying will not help)."""


@dataclass(frozen=True)
class Resolution:
    """What an event stands for: records complete enough to write as sent, ids whose
    record Zoho must give."""

    documents: list[Document] = field(default_factory=list)
    fetch_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChildRows:
    """Rows hanging off a full document (its lines), replaced with it under its
    version guard. `list_field` is the document's list; the child table keeps the parent
    row's id in `parent_key`, and the parent's Zoho id in `parent_zoho_id` if it has
    that column; `unique_by` is a child field unique within one parent."""

    list_field: str
    model: type[Base]
    schema: type[Schema]
    parent_key: str = "parent_id"
    parent_zoho_id: str = ""
    unique_by: str = ""

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)


class Entity:
    """How one Zoho entity is named, fetched, mapped and stored.

    Subclasses set the attributes; the methods below them are override points.
    """

    name: ClassVar[str]  # our name: queue `tds.<name>`, CLI argument
    webhook: ClassVar[str]  # the path segment in /api/zoho/webhooks/<webhook>
    path: ClassVar[str]  # Zoho Books path of a record, e.g. "/items"
    list_key: ClassVar[str]  # key of the list in Zoho's list answer
    single_key: ClassVar[str]  # key of the object in Zoho's get answer
    id_field: ClassVar[str]  # Zoho's id field
    model: ClassVar[type[Base]]
    schema: ClassVar[type[ZohoSchema]]
    list_path: ClassVar[str] = ""  # where the list is, when not `path`
    modified_field: ClassVar[str] = "last_modified_time"
    inventory: ClassVar[bool] = False  # synced often (stock, prices)
    list_params: ClassVar[tuple[tuple[str, str], ...]] = ()  # fixed filters on every list call
    modified_filter: ClassVar[bool] = True  # Zoho filters the list by last_modified_time
    required_fields: ClassVar[tuple[str, ...]] = ()  # a webhook without them triggers a fetch
    detail_fields: ClassVar[tuple[str, ...]] = ()  # fields only the full record has
    compared: ClassVar[tuple[str, ...]] = ()  # columns whose change is news at any stamp
    key: ClassVar[tuple[str, ...]] = write.CONFLICT_COLUMNS
    children: ClassVar[tuple[ChildRows, ...]] = ()
    single_get: ClassVar[bool] = True  # Zoho documents a GET of one record
    # Entities whose rows come from this one's list too, in the same pass (one listing
    # of /items makes both stock and product rows: half the calls).
    companions: ClassVar[tuple[str, ...]] = ()
    event_key: ClassVar[str] = ""  # the webhook's wrapper key when it is not `single_key`
    event_id_field: ClassVar[str] = ""  # the webhook's id field when it is not `id_field`

    def __repr__(self) -> str:
        return f"<entity {self.name}>"

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)

    @property
    def target(self) -> write.Target:
        return write.Target(self.table, self.key, self.compared)

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

    @property
    def workflow_module(self) -> str:
        """Zoho's workflow module whose rules call this entity's webhook (the ``entity``
        of Books' webhook API); empty where Zoho has none."""
        return self.event_key or self.single_key

    @property
    def listing_path(self) -> str:
        """Where the entity's list is read."""
        return self.list_path or self.path

    def record_path(self, zoho_id: str) -> str:
        return f"{self.path}/{zoho_id}"

    # --- override points -------------------------------------------------

    def unwrap(self, payload: Mapping[str, Any]) -> Any:
        """The record inside a webhook body: the body itself when it carries an id
        field, else what its wrapper key holds (``{"item": {...}}``), else the first
        object found inside that carries an id (wrappers a sender made up), else the
        body."""
        if any(name in payload for name in self.id_fields):
            return payload
        for key in self.wrapper_keys:
            if key in payload:
                return _only(payload[key])
        found = _first_with(self.id_fields, payload.values())
        return payload if found is None else found

    def accepts(self, document: Mapping[str, Any]) -> bool:
        """Whether a document belongs in this entity's table at all."""
        return True

    def is_complete(self, record: Mapping[str, Any]) -> bool:
        """Whether a webhook record can be written as sent: every field our columns
        need is there and reads cleanly. Anything else is fetched from Zoho."""
        needed = (self.id_field, self.modified_field, *self.required_fields,
                  *self.detail_fields)
        if any(record.get(name) in (None, "") for name in needed):
            return False
        return not load_tolerantly(self.schema, record)[1]

    def kind_of(self, record: Mapping[str, Any]) -> DocumentKind:
        """What a webhook's record is: full only when it carries the detail only the
        full record has (for an entity that declares such fields)."""
        if self.detail_fields and all(name in record for name in self.detail_fields):
            return DocumentKind.FULL
        return DocumentKind.SUMMARY

    def resolve_event(self, record: Mapping[str, Any], zoho_id: str) -> Resolution:
        """Split an event's record into documents to write and ids Zoho must give."""
        if self.is_complete(record):
            return Resolution(documents=[dict(record)])
        return Resolution(fetch_ids=[str(record.get(self.id_field) or zoho_id)])

    def fetch_record(self, client: ZohoReader, zoho_id: str) -> Document | None:
        """The full record from Zoho's GET, or None when Zoho says it does not exist
        (code 1002, ``zoho-books-api.md``)."""
        try:
            body = client.get(self.record_path(zoho_id))
        except ZohoNotFoundError:
            return None
        document = body.get(self.single_key)
        if not isinstance(document, dict):
            raise ZohoValidationError(f"Zoho's answer for {self.record_path(zoho_id)} has no "
                                      f"{self.single_key!r} object.")
        return document

    def fetch_detail(self, client: ZohoReader, summary: Mapping[str, Any]) -> Document | None:
        """The full record behind a list row, or None when it is gone."""
        return self.fetch_record(client, str(summary[self.id_field]))

    def document_rows(self, organization_id: str, document: Mapping[str, Any],
                      kind: DocumentKind) -> list[dict[str, Any]]:
        """The table rows one document makes (one, unless the entity keeps several)."""
        return [self.row(organization_id, document, kind)]

    # --- rows ----------------------------------------------------------------

    def row(self, organization_id: str, document: Mapping[str, Any],
            kind: DocumentKind) -> dict[str, Any]:
        """The table row for one document; :class:`UnusableDocumentError` without an id.

        A typed field that does not read (a display-format date, a number too large
        for its column) leaves its column empty with a warning; the document keeps
        the value and the row is written."""
        zoho_id = document.get(self.id_field)
        if zoho_id in (None, ""):
            raise UnusableDocumentError(f"{self.name} document has no {self.id_field}.")
        columns, problems = load_tolerantly(self.schema, document)
        for name, problem in problems.items():
            log.warning("a field left empty", extra={
                "entity": self.name, "zoho_id": str(zoho_id), "field": name,
                "problem": problem})
        # The document itself, not a copy: a bulk writer finds it in its source page.
        stored = document if type(document) is dict else dict(document)
        return {**columns, "organization_id": organization_id, "zoho_id": str(zoho_id),
                "document": stored, "document_kind": kind.value, "deleted_at": None}

    def rows(self, organization_id: str, documents: Iterable[Mapping[str, Any]],
             kind: DocumentKind, strict: bool = False) -> list[dict[str, Any]]:
        """Rows for the documents this entity accepts; a document without an id is
        logged and skipped (or raised when `strict`, as for an event)."""
        result = []
        for document in documents:
            if not self.accepts(document):
                continue
            try:
                result.extend(self.document_rows(organization_id, document, kind))
            except UnusableDocumentError as error:
                if strict:
                    raise
                log.warning("skipped an unusable document", extra={"error": str(error)})
        return result

    def write(self, session: Session, organization_id: str,
              documents: Sequence[Mapping[str, Any]], kind: DocumentKind, *,
              strict: bool = False, skip_unchanged: bool = True) -> int:
        """Upsert `documents` (all of one `kind`) under the version guard, then the
        children of the full ones; returns the rows written.

        Bulk passes skip rows stored at the same version; an event (or its replay)
        applies an equal version again (`skip_unchanged` False)."""
        rows = self.rows(organization_id, documents, kind, strict)
        source = documents if isinstance(documents, SourcePage) else None
        written = write.write_rows(session, self.target, rows, skip_unchanged=skip_unchanged,
                                   source=source)
        if kind is DocumentKind.FULL:
            self.write_children(session, organization_id, documents)
        return written

    def write_children(self, session: Session, organization_id: str,
                       documents: Sequence[Mapping[str, Any]]) -> None:
        """Replace each full document's children (its lines) if its version is stored."""
        for child in self.children:
            rewritten: dict[str, tuple[datetime | None, list[dict[str, Any]]]] = {}
            for document in documents:
                lines = document.get(child.list_field)
                if not isinstance(lines, list) or not document.get(self.id_field):
                    continue
                zoho_id = str(document[self.id_field])
                rewritten[zoho_id] = (parse_zoho_time(document.get(self.modified_field)),
                                      self._child_rows(child, organization_id, zoho_id, lines))
            write.replace_children(session, self.table, child.table, organization_id,
                                   rewritten, parent_key=child.parent_key)

    def detail_candidates(self, session: Session, organization_id: str,
                          ids: Iterable[str]) -> set[str]:
        """Among `ids`, the live rows holding a summary (their full record is due)."""
        table = self.table
        found: set[str] = set()
        for chunk in write.chunks(sorted(set(ids))):
            found.update(session.scalars(table.select().with_only_columns(table.c.zoho_id)
                                         .where(table.c.organization_id == organization_id,
                                                table.c.zoho_id.in_(chunk),
                                                table.c.document_kind == DocumentKind.SUMMARY,
                                                table.c.deleted_at.is_(None))))
        return found

    def _child_rows(self, child: ChildRows, organization_id: str, zoho_id: str,
                    lines: list[Any]) -> list[dict[str, Any]]:
        columns = child.table.c
        extra: dict[str, Any] = {}
        if "organization_id" in columns:
            extra["organization_id"] = organization_id
        if child.parent_zoho_id:
            extra[child.parent_zoho_id] = zoho_id
        rows: dict[Any, dict[str, Any]] = {}
        for index, line in enumerate(lines):
            if not isinstance(line, dict):
                continue
            loaded, problems = load_tolerantly(child.schema, line)
            if child.unique_by and not loaded.get(child.unique_by):
                continue
            for name, problem in problems.items():
                log.warning("a line's field left empty", extra={
                    "entity": self.name, "zoho_id": zoho_id, "field": name,
                    "problem": problem})
            rows[loaded[child.unique_by] if child.unique_by else index] = loaded | extra
        return list(rows.values())


def _only(value: Any) -> Any:
    """The one element of a one-element list (a record wrapped in a list); else `value`."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _first_with(id_fields: tuple[str, ...], values: Iterable[Any],
                depth: int = 3) -> dict[str, Any] | None:
    """The first object among `values` (or nested in them, `depth` levels down) that
    carries one of `id_fields`."""
    nested: list[Any] = []
    for value in map(_only, values):
        if isinstance(value, dict):
            if any(name in value for name in id_fields):
                return value
            nested.extend(value.values())
    return _first_with(id_fields, nested, depth - 1) if nested and depth > 1 else None


class Products(Entity):
    name = webhook = "products"
    path, list_key, single_key, id_field = "/items", "items", "item", "item_id"
    model, schema = Product, ProductSchema
    list_params = (ALL_STATUSES,)
    required_fields = ("name",)


class Customers(Entity):
    """Contacts, of which only customers are synced (vendors share the endpoint)."""

    name = webhook = "customers"
    path, list_key, single_key, id_field = "/contacts", "contacts", "contact", "contact_id"
    model, schema = Customer, CustomerSchema
    list_params = (("contact_type", "customer"), ALL_STATUSES)
    required_fields = ("contact_name",)

    def accepts(self, document: Mapping[str, Any]) -> bool:
        return document.get("contact_type") in (None, "", "customer")


def _line_items(model: type[Base], parent_zoho_id: str) -> tuple[ChildRows, ...]:
    return (ChildRows("line_items", model, LineItemSchema, parent_zoho_id=parent_zoho_id),)


class Invoices(Entity):
    name = webhook = "invoices"
    path, list_key, single_key, id_field = "/invoices", "invoices", "invoice", "invoice_id"
    model, schema = Invoice, InvoiceSchema
    required_fields = ("invoice_number", "status", "total")
    detail_fields = ("line_items",)
    children = _line_items(InvoiceLineItem, "invoice_id")


class Bills(Entity):
    name = webhook = "bills"
    path, list_key, single_key, id_field = "/bills", "bills", "bill", "bill_id"
    model, schema = Bill, BillSchema
    required_fields = ("bill_number", "status", "total")
    detail_fields = ("line_items",)
    children = _line_items(BillLineItem, "bill_id")


class CreditNotes(Entity):
    name, webhook = "credit_notes", "credit-notes"
    path, list_key, single_key, id_field = ("/creditnotes", "creditnotes", "creditnote",
                                            "creditnote_id")
    model, schema = CreditNote, CreditNoteSchema
    required_fields = ("creditnote_number", "status", "total")
    detail_fields = ("line_items",)
    children = _line_items(CreditNoteLineItem, "creditnote_id")


class Stock(Entity):
    """Stock per item: the item's totals (list rows carry them) and, from the item's
    GET, its ``locations[]``. A stock webhook is usually an inventory adjustment whose
    lines name the items that moved. Whether a sale or bill moves an item's
    last_modified_time is unconfirmed (``zoho-books-api.md``), so a stock pass reads
    every item and compares the stock values, not only the stamp."""

    name = webhook = "stock"
    path, list_key, single_key, id_field = "/items", "items", "item", "item_id"
    model, schema = StockLevel, StockSchema
    inventory = True
    list_params = (ALL_STATUSES,)
    modified_filter = False
    required_fields = ("stock_on_hand",)
    detail_fields = ("locations",)
    compared = ("stock_on_hand", "available_stock", "actual_available_stock")
    key = (*write.CONFLICT_COLUMNS, "location_id")
    companions = ("products",)
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

    def document_rows(self, organization_id: str, document: Mapping[str, Any],
                      kind: DocumentKind) -> list[dict[str, Any]]:
        total = self.row(organization_id, document, kind) | {"location_id": "",
                                                            "location_name": None}
        rows = [total]
        for location in document.get("locations") or ():
            if not isinstance(location, dict):
                continue
            columns, _ = load_tolerantly(StockLocationSchema, location)
            if columns["location_id"]:
                rows.append(total | columns | {"document": location})
        return rows


class PriceLists(Entity):
    """Price lists. No single GET is documented (``zoho-books-api.md``): changed lists
    come from ``/pricebooks/bulkfetch`` (inactive ones too with ``Status.All``) and
    a list's items from ``/pricebooks/items?pricebook_id=``, paged; they replace the
    list's item rows."""

    name = webhook = "prices"
    path, list_key, single_key, id_field = ("/pricebooks", "pricebooks", "pricebook",
                                            "pricebook_id")
    list_path = "/pricebooks/bulkfetch"
    items_path, items_key = "/pricebooks/items", "pricebook_items"
    model, schema = PriceList, PriceListSchema
    inventory = True
    single_get = False
    list_params = (ALL_STATUSES,)
    required_fields = ("name",)
    detail_fields = ("pricebook_items",)
    children = (ChildRows("pricebook_items", PriceListItem, PriceListItemSchema,
                          parent_key="price_list_id", unique_by="item_id"),)

    @property
    def workflow_module(self) -> str:
        return ""  # no Price Lists module: price changes arrive only by polling (the sheet)

    def fetch_record(self, client: ZohoReader, zoho_id: str) -> Document | None:
        for page in client.paginated_fetch(self.list_path, self.list_key,
                                           dict(self.list_params)):
            for summary in page:
                if str(summary.get(self.id_field)) == zoho_id:
                    return self.fetch_detail(client, summary)
        return None

    def fetch_detail(self, client: ZohoReader, summary: Mapping[str, Any]) -> Document | None:
        params = {"pricebook_id": str(summary[self.id_field])}
        try:
            items = [item for page in client.paginated_fetch(self.items_path, self.items_key,
                                                             params) for item in page]
        except ZohoNotFoundError:
            return None  # gone since it was listed; the list, not this path, says so next
        return {**summary, self.items_key: items}


ENTITIES: tuple[Entity, ...] = (Products(), Customers(), Invoices(), Bills(), CreditNotes(),
                                Stock(), PriceLists())
BY_NAME = {entity.name: entity for entity in ENTITIES}
BY_WEBHOOK = {entity.webhook: entity for entity in ENTITIES}
ALL_QUEUES = (*(entity.queue for entity in ENTITIES), ORDERS_QUEUE, MAINTENANCE_QUEUE)


def companions_of(entity: Entity) -> tuple[Entity, ...]:
    """The entities whose rows `entity`'s pass writes too."""
    return tuple(BY_NAME[name] for name in entity.companions)


# Whose pass carries them: an entity another one's pass writes needs no pass of its own.
CARRIED_BY = {companion: entity.name for entity in ENTITIES for companion in entity.companions}


def entity_named(name: str) -> Entity:
    """The entity called `name` (our name or its webhook segment); a clear error otherwise."""
    entity = BY_NAME.get(name) or BY_WEBHOOK.get(name)
    if entity is None:
        raise TDSError(f"unknown entity {name!r}; use one of {', '.join(BY_NAME)}.")
    return entity
