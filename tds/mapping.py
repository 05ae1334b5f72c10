"""marshmallow schemas turning Zoho documents into our columns.

Zoho's documents are loose: amounts arrive as strings, floats or whole
numbers (even within one organization), blanks as ``""``, times as
``2023-11-18T02:02:51-0800``. The fields here accept every variant and
return typed values (``Decimal``, ISO dates, aware datetimes); the models
know nothing of Zoho's names.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

ZOHO_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z")


def parse_zoho_time(value: Any) -> datetime | None:
    """A Zoho timestamp as an aware UTC datetime; None for a blank; ValueError if malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip().replace("Z", "+0000")
    for pattern in ZOHO_TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).astimezone(UTC)
        except ValueError:
            continue
    try:  # ISO with a colon in the offset, which newer Zoho answers use
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a Zoho timestamp: {value!r}") from None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)


def format_zoho_time(moment: datetime) -> str:
    """``moment`` as Zoho's filter parameters expect it (offset without a colon)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


class ZohoTime(fields.Field[datetime]):
    """``last_modified_time`` and friends, as aware UTC datetimes."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return parse_zoho_time(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class Amount(fields.Field[Decimal]):
    """A Zoho amount (string, float or integer) as an exact ``Decimal``; blank is None."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValidationError("not an amount")
        try:
            # str() first: Decimal(0.1) would keep the float's binary noise.
            return Decimal(str(value).replace(",", "").strip())
        except InvalidOperation:
            raise ValidationError(f"not an amount: {value!r}") from None


class ZohoDate(fields.Field[str]):
    """A Zoho date, checked, kept as ISO ``YYYY-MM-DD`` text; blank is None."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise ValidationError(f"not a date: {value!r}") from None


class Text(fields.Field[str]):
    """Any scalar as text (Zoho sends ids as strings or numbers); blank is None."""

    def __init__(self, length: int = 255, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.length = length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, dict | list):
            raise ValidationError("expected text")
        return str(value)[: self.length]


class ZohoSchema(Schema):
    """Base: unknown Zoho fields are ignored, every field is optional."""

    class Meta:
        unknown = EXCLUDE

    last_modified_time = ZohoTime(load_default=None)


class ProductSchema(ZohoSchema):
    name = Text()
    sku = Text(128)
    status = Text(32)
    rate = Amount()
    unit = Text(32)
    stock_on_hand = Amount()


class CustomerSchema(ZohoSchema):
    contact_name = Text()
    company_name = Text()
    email = Text()
    status = Text(32)
    currency_code = Text(8)
    outstanding_receivable_amount = Amount()


class InvoiceSchema(ZohoSchema):
    invoice_number = Text(64)
    customer_id = Text(64)
    status = Text(32)
    date = ZohoDate()
    due_date = ZohoDate()
    currency_code = Text(8)
    total = Amount()
    balance = Amount()


class BillSchema(ZohoSchema):
    bill_number = Text(64)
    vendor_id = Text(64)
    status = Text(32)
    date = ZohoDate()
    due_date = ZohoDate()
    currency_code = Text(8)
    total = Amount()
    balance = Amount()


class CreditNoteSchema(ZohoSchema):
    creditnote_number = Text(64)
    customer_id = Text(64)
    status = Text(32)
    date = ZohoDate()
    currency_code = Text(8)
    total = Amount()
    balance = Amount()


class StockSchema(ZohoSchema):
    sku = Text(128)
    stock_on_hand = Amount()
    available_stock = Amount()
    actual_available_stock = Amount()


class PriceListSchema(ZohoSchema):
    name = Text()
    currency_code = Text(8)
    pricebook_type = Text(32)
    status = Text(32)


class PriceListItemSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    item_id = Text(64, required=True)
    pricebook_rate = Amount()
