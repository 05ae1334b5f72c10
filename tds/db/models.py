"""Typed SQLAlchemy models for every TDS table.

Models know nothing of Zoho's field names: marshmallow schemas at the
boundary turn Zoho documents into these columns. Constraint names come
from the naming convention so migrations stay stable on both dialects.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on Postgres (indexable, compact), plain JSON text on SQLite.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; Postgres gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(20, 6)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in UTC on both dialects.

    SQLite keeps no offset, so every value is converted to UTC on the way in
    and read back as UTC; string comparison then orders versions correctly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONDocument, datetime: UTCDateTime(),
    }


class InboxStatus(enum.StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSED = "processed"
    FAILED = "failed"
    DEAD = "dead"
    IGNORED = "ignored"  # stored, never applied (another organization's event)


# An inbox event's action when the sender said the record was deleted (a Deleted
# workflow rule, method DELETE, or an action parameter such as ?event=deleted).
DELETED_ACTION = "deleted"
# A dedup key of a body without a version: it stands only until a worker claims the
# event, when it becomes CLAIMED_PREFIX + the event's id (a later copy is a new event).
ONCE_PREFIX, CLAIMED_PREFIX = "once:", "claimed:"


class DocumentKind(enum.StrEnum):
    """What a stored document is: a list row (a summary) or the record Zoho's GET gave."""

    SUMMARY = "summary"
    FULL = "full"


class LedgerStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    WAITING = "waiting"  # for a limit that lifts by itself; `next_retry_at` says until when
    COMPLETED = "completed"
    FAILED = "failed"
    DEAD = "dead"


_WAITING = text("status = 'received'")
_IN_FLIGHT = text("status = 'queued'")


class InboxEvent(Base):
    """One accepted webhook, stored before the receiver answers."""

    __tablename__ = "tds_inbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    zoho_id: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[str | None] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(128), unique=True)
    signature_scheme: Mapped[str] = mapped_column(String(16))
    # How it came: the HTTP method and the action the sender named (Deleted, Edited...).
    method: Mapped[str] = mapped_column(String(8), default="POST", server_default="POST")
    action: Mapped[str | None] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(128))
    raw_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]]
    payload: Mapped[dict[str, Any]]
    last_modified_time: Mapped[datetime | None]
    correlation_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    queued_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        # Small partial indexes: the sweeper's `received` events and the
        # dispatcher's `queued` ones (migration 0002 says why).
        Index("ix_tds_inbox_events_waiting", "id", postgresql_where=_WAITING,
              sqlite_where=_WAITING),
        Index("ix_tds_inbox_events_in_flight", "id", postgresql_where=_IN_FLIGHT,
              sqlite_where=_IN_FLIGHT),
    )


class SyncQueueItem(Base):
    """The ledger of sync work: one row per unit (an event, a page, an order)."""

    __tablename__ = "tds_sync_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[str | None] = mapped_column(String(32))
    inbox_event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("tds_inbox_events.id", ondelete="SET NULL")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=LedgerStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    next_retry_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processing_started_at: Mapped[datetime | None]
    processing_completed_at: Mapped[datetime | None]
    # Who holds a `processing` row and until when; past it, another worker may claim it.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claim_expires_at: Mapped[datetime | None]

    __table_args__ = (
        # Pending and failed rows are picked by their next retry time.
        Index("ix_tds_sync_queue_status_next_retry_at", "status", "next_retry_at"),
        Index("ix_tds_sync_queue_inbox_event_id", "inbox_event_id"),
    )


class SyncState(Base):
    """Per organization and entity: the incremental cursor and the last runs."""

    __tablename__ = "tds_sync_state"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    cursor: Mapped[datetime | None]
    last_incremental_at: Mapped[datetime | None]
    last_full_sync_at: Mapped[datetime | None]
    last_reconcile_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(),
                                                 onupdate=func.now())

    __table_args__ = (UniqueConstraint("organization_id", "entity"),)


class OAuthToken(Base):
    """The cached Zoho access token, shared by every process."""

    __tablename__ = "tds_oauth_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # A hash of accounts URL, client id and refresh token: one row per grant.
    credential_key: Mapped[str] = mapped_column(String(64), unique=True)
    access_token: Mapped[str | None] = mapped_column(Text)
    api_domain: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]
    # The database lock's lease when Redis is absent: who refreshes, until when.
    refresh_lock_owner: Mapped[str | None] = mapped_column(String(64))
    refresh_lock_until: Mapped[datetime | None]
    # Zoho refused a grant ("Access Denied"): nobody asks again before this.
    refresh_blocked_until: Mapped[datetime | None]


class RateBucket(Base):
    """The Zoho rate budget of one organization and API host when Redis is not set."""

    __tablename__ = "tds_rate_buckets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bucket_key: Mapped[str] = mapped_column(String(200), unique=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime]
    # The day's quota: calls used, Zoho's limit (X-Rate-Limit-Limit) once seen, and
    # when the count resets (X-Rate-Limit-Reset after now; UTC midnight until Zoho says).
    day_count: Mapped[int] = mapped_column(Integer, default=0)
    day_limit: Mapped[int | None] = mapped_column(Integer)
    day_resets_at: Mapped[datetime | None]
    in_flight: Mapped[int] = mapped_column(Integer, default=0)


class ZohoRecord:
    """Columns every synced Zoho entity table has."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(String(32))
    zoho_id: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    # `full` while the document's detail is the record Zoho's GET gave at this version;
    # a newer list row (a summary) is merged over it and makes it `summary` again.
    document_kind: Mapped[str] = mapped_column(String(8), default=DocumentKind.FULL,
                                               server_default=DocumentKind.SUMMARY.value)
    last_modified_time: Mapped[datetime | None]
    synced_at: Mapped[datetime] = mapped_column(server_default=func.now())
    deleted_at: Mapped[datetime | None]


def _record_args(table: str) -> tuple[Any, ...]:
    return (
        UniqueConstraint("organization_id", "zoho_id", name=f"uq_{table}_organization_id_zoho_id"),
        Index(f"ix_{table}_last_modified_time", "organization_id", "last_modified_time"),
    )


class Product(ZohoRecord, Base):
    __tablename__ = "products"
    __table_args__ = _record_args("products")

    name: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    rate: Mapped[Decimal | None] = mapped_column(Money)
    unit: Mapped[str | None] = mapped_column(String(32))
    stock_on_hand: Mapped[Decimal | None] = mapped_column(Money)


class Customer(ZohoRecord, Base):
    __tablename__ = "customers"
    __table_args__ = _record_args("customers")

    contact_name: Mapped[str | None] = mapped_column(String(255))
    company_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    currency_code: Mapped[str | None] = mapped_column(String(8))
    outstanding_receivable_amount: Mapped[Decimal | None] = mapped_column(Money)


class Transaction(ZohoRecord):
    """Columns invoices, bills and credit notes share."""

    status: Mapped[str | None] = mapped_column(String(32))
    date: Mapped[str | None] = mapped_column(String(10))
    currency_code: Mapped[str | None] = mapped_column(String(8))
    total: Mapped[Decimal | None] = mapped_column(Money)
    balance: Mapped[Decimal | None] = mapped_column(Money)


class Invoice(Transaction, Base):
    __tablename__ = "invoices"
    __table_args__ = _record_args("invoices")

    invoice_number: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    due_date: Mapped[str | None] = mapped_column(String(10))


class Bill(Transaction, Base):
    __tablename__ = "bills"
    __table_args__ = _record_args("bills")

    bill_number: Mapped[str | None] = mapped_column(String(64))
    vendor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    due_date: Mapped[str | None] = mapped_column(String(10))


class CreditNote(Transaction, Base):
    __tablename__ = "credit_notes"
    __table_args__ = _record_args("credit_notes")

    creditnote_number: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)


class StockLevel(ZohoRecord, Base):
    """Stock per item and location; `zoho_id` is the item id. The row with an empty
    `location_id` holds the item's totals (what item list rows carry); the others
    each location's stock (what the item's GET nests in ``locations[]``)."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("organization_id", "zoho_id", "location_id",
                         name="uq_stock_levels_organization_id_zoho_id_location_id"),
        Index("ix_stock_levels_last_modified_time", "organization_id", "last_modified_time"),
    )

    location_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    location_name: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(128))
    stock_on_hand: Mapped[Decimal | None] = mapped_column(Money)
    available_stock: Mapped[Decimal | None] = mapped_column(Money)
    actual_available_stock: Mapped[Decimal | None] = mapped_column(Money)


class PriceList(ZohoRecord, Base):
    """A Zoho price book; its per-item rates are in :class:`PriceListItem`."""

    __tablename__ = "price_lists"
    __table_args__ = _record_args("price_lists")

    name: Mapped[str | None] = mapped_column(String(255))
    currency_code: Mapped[str | None] = mapped_column(String(8))
    pricebook_type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    items: Mapped[list[PriceListItem]] = relationship(
        back_populates="price_list", cascade="all, delete-orphan", passive_deletes=True
    )


class PriceListItem(Base):
    __tablename__ = "price_list_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    price_list_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("price_lists.id", ondelete="CASCADE")
    )
    item_id: Mapped[str] = mapped_column(String(64))
    pricebook_rate: Mapped[Decimal | None] = mapped_column(Money)
    price_list: Mapped[PriceList] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("price_list_id", "item_id"),)


class LineItem:
    """A transaction's line, as Zoho names its fields; replaced with its parent's full
    document under the parent's version guard."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(String(32))
    line_item_id: Mapped[str | None] = mapped_column(String(64))
    item_id: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(Money)
    rate: Mapped[Decimal | None] = mapped_column(Money)
    unit: Mapped[str | None] = mapped_column(String(32))
    discount: Mapped[Decimal | None] = mapped_column(Money)
    discount_amount: Mapped[Decimal | None] = mapped_column(Money)
    tax_id: Mapped[str | None] = mapped_column(String(64))
    tax_name: Mapped[str | None] = mapped_column(String(128))
    tax_percentage: Mapped[Decimal | None] = mapped_column(Money)
    item_total: Mapped[Decimal | None] = mapped_column(Money)


class InvoiceLineItem(LineItem, Base):
    __tablename__ = "invoice_line_items"

    parent_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoices.id", ondelete="CASCADE"),
                                           index=True)
    invoice_id: Mapped[str] = mapped_column(String(64))


class BillLineItem(LineItem, Base):
    __tablename__ = "bill_line_items"

    parent_id: Mapped[int] = mapped_column(BigId, ForeignKey("bills.id", ondelete="CASCADE"),
                                           index=True)
    bill_id: Mapped[str] = mapped_column(String(64))


class CreditNoteLineItem(LineItem, Base):
    __tablename__ = "credit_note_line_items"

    parent_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("credit_notes.id", ondelete="CASCADE"), index=True)
    creditnote_id: Mapped[str] = mapped_column(String(64))


class OrderState(enum.StrEnum):
    """A consumer order's life: `pending` until Zoho holds it (`created`), `rejected` when
    Zoho refused it (an unknown customer or item), `failed` when TDS gave up on a fault
    that is not the order's (credentials, retries spent): an operator may requeue it."""

    PENDING = "pending"
    CREATED = "created"
    REJECTED = "rejected"
    FAILED = "failed"


class SalesOrder(ZohoRecord, Base):
    """A sales order placed through the consumer API; `zoho_id` is null until Zoho has
    accepted the create. `request` is the validated order as the client sent it,
    `document` Zoho's sales order once it exists."""

    __tablename__ = "sales_orders"
    # updated_at comes back in the UPDATE's RETURNING, not in a SELECT when next read.
    __mapper_args__ = MappingProxyType({"eager_defaults": True})
    __table_args__ = (
        *_record_args("sales_orders"),
        UniqueConstraint("organization_id", "idempotency_key"),
        # Our reference is how a retried create finds what Zoho stored: one order each.
        UniqueConstraint("organization_id", "reference_number"),
        Index("ix_sales_orders_state_created_at", "state", "created_at"),
    )

    zoho_id: Mapped[str | None] = mapped_column(String(64))  # type: ignore[assignment]
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    reference_number: Mapped[str | None] = mapped_column(String(64))
    salesorder_number: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))  # Zoho's: draft, open...
    total: Mapped[Decimal | None] = mapped_column(Money)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=OrderState.PENDING,
                                       server_default=OrderState.PENDING.value)
    reason: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(),
                                                 onupdate=func.now())


class WebhookSecret(Base):
    """Secrets `tds webhooks register` gave Zoho's webhooks, newest last; the receiver
    accepts them through TDS_WEBHOOK_SECRET (the command prints the value to set)."""

    __tablename__ = "tds_webhook_secrets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    secret: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
