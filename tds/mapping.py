"""marshmallow schemas turning Zoho documents into our columns.

Zoho's documents are loose: amounts arrive as strings, floats or whole
numbers (even within one organization), blanks as ``""``, times as
``2023-11-18T02:02:51-0800``. The fields here accept every variant and
return typed values (``Decimal``, ISO dates, aware datetimes); the models
know nothing of Zoho's names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing

ZOHO_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z")


def parse_zoho_time(value: Any) -> datetime | None:
    """A Zoho timestamp as an aware UTC datetime; None for a blank; ValueError if malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    # The usual case, a str as Zoho sends it, needs no clean-up: try it as it is first.
    if type(value) is str and (parsed := _iso_utc(value)) is not None:
        return parsed
    text = str(value).strip().replace("Z", "+0000")
    # ISO, which Zoho's formats all are; strptime is ten times slower.
    if (parsed := _iso_utc(text)) is not None:
        return parsed
    for pattern in ZOHO_TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).astimezone(UTC)
        except (ValueError, OverflowError):
            continue
    raise ValueError(f"not a Zoho timestamp ({len(text)} characters)")


@lru_cache(maxsize=4096)
def _iso_utc(text: str) -> datetime | None:
    """`text` read by fromisoformat as an aware UTC datetime (naive means UTC); None if
    fromisoformat refuses it.

    Cached: a bulk pass reads each document's time twice (for its row, then for the
    pass's cursor, a page later at most), and Zoho stamps records changed together
    alike. A hit costs a twentieth of a parse; datetimes are immutable."""
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        return None


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


# Money columns are NUMERIC(20, 6): at most 14 digits before the point.
MONEY_INTEGER_DIGITS = 14


class Amount(fields.Field[Decimal]):
    """A Zoho amount (string, float or integer, thousands separators allowed) as an
    exact ``Decimal``; blank is None. A value too large for a money column is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValidationError("not an amount")
        try:
            # str() first: Decimal(0.1) would keep the float's binary noise.
            amount = Decimal(value) if type(value) is int else \
                Decimal(str(value).replace(",", "").strip())
        except (InvalidOperation, ValueError):
            raise ValidationError(f"not an amount ({len(str(value))} characters)") from None
        if not amount.is_finite() or amount.adjusted() >= MONEY_INTEGER_DIGITS:
            raise ValidationError(f"too large for its column ({amount.adjusted() + 1} digits "
                                  f"before the point, at most {MONEY_INTEGER_DIGITS})"
                                  if amount.is_finite() else "not a finite amount")
        return amount


class ZohoDate(fields.Field[str]):
    """A Zoho date, checked, kept as ISO ``YYYY-MM-DD`` text; blank is None."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise ValidationError(f"not a date ({len(str(value))} characters)") from None


class Text(fields.Field[str]):
    """Any scalar as text (Zoho sends ids as strings or numbers); blank is None."""

    def __init__(self, length: int = 255, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.length = length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return None
        if type(value) is str:
            return value[: self.length]
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


class TransactionSchema(ZohoSchema):
    """Fields invoices, bills and credit notes share."""

    status = Text(32)
    date = ZohoDate()
    currency_code = Text(8)
    total = Amount()
    balance = Amount()


class InvoiceSchema(TransactionSchema):
    invoice_number = Text(64)
    customer_id = Text(64)
    due_date = ZohoDate()


class BillSchema(TransactionSchema):
    bill_number = Text(64)
    vendor_id = Text(64)
    due_date = ZohoDate()


class CreditNoteSchema(TransactionSchema):
    creditnote_number = Text(64)
    customer_id = Text(64)


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


class StockLocationSchema(Schema):
    """One entry of an item's ``locations[]`` (the item GET only), as a stock row."""

    class Meta:
        unknown = EXCLUDE

    location_id = Text(64)
    location_name = Text()
    stock_on_hand = Amount(data_key="location_stock_on_hand")
    available_stock = Amount(data_key="location_available_stock")
    actual_available_stock = Amount(data_key="location_actual_available_stock")


class PriceListItemSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    item_id = Text(64, required=True)
    pricebook_rate = Amount()


class LineItemSchema(Schema):
    """A line of an invoice, bill or credit note, under Zoho's names."""

    class Meta:
        unknown = EXCLUDE

    line_item_id = Text(64)
    item_id = Text(64)
    name = Text()
    description = Text(4000)
    quantity = Amount()
    rate = Amount()
    unit = Text(32)
    discount = Amount()
    discount_amount = Amount()
    tax_id = Text(64)
    tax_name = Text(128)
    tax_percentage = Amount()
    item_total = Amount()


RowLoader = Callable[[Mapping[str, Any]], dict[str, Any]]


@cache
def row_loader(schema_class: type[Schema]) -> RowLoader:
    """A function loading a document as `schema_class` would, every field present
    (None when absent), without marshmallow's per-record machinery.

    A full sync loads a hundred thousand documents: the schema's fields are read
    once here and each document costs only the fields' own conversions. Anything
    unusual (a missing required field, a null the field refuses, a value it
    rejects) is handed to ``schema.load``, so errors are exactly marshmallow's.
    Schemas with hooks, validators or other than ``unknown=EXCLUDE`` always go
    through ``schema.load``.
    """
    schema = schema_class()
    fields_ = schema.load_fields

    def through_schema(document: Mapping[str, Any]) -> dict[str, Any]:
        loaded: dict[str, Any] = schema.load(document)
        return dict.fromkeys(fields_, None) | loaded

    if (schema.unknown != EXCLUDE or any(schema._hooks.values())
            or any(f.validators for f in fields_.values())):
        return through_schema
    plan = [(name, field.data_key or name, field._deserialize,
             field.allow_none, field.required, field.load_default)
            for name, field in fields_.items()]

    def load(document: Any) -> dict[str, Any]:
        if not isinstance(document, Mapping):
            return through_schema(document)
        row: dict[str, Any] = {}
        for name, key, deserialize, allow_none, required, default in plan:
            value = document.get(key, missing)
            if value is missing:
                if required:
                    return through_schema(document)
                row[name] = None if default is missing else (
                    default() if callable(default) else default)
            elif value is None:
                if not allow_none:
                    return through_schema(document)
                row[name] = None
            else:
                try:
                    row[name] = deserialize(value, name, document)
                except ValidationError:
                    return through_schema(document)
        return row

    return load


def load_tolerantly(schema_class: type[Schema],
                    document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The columns of `document` as `schema_class` loads them, and for each field that
    would not load, why (its message names the value's size, never the value). Such a
    column is left empty; the stored document keeps what Zoho sent."""
    try:
        return row_loader(schema_class)(document), {}
    except ValidationError as error:
        names = _schema(schema_class).load_fields
        valid = error.valid_data if isinstance(error.valid_data, dict) else {}
        messages = error.messages if isinstance(error.messages, dict) else {}
        problems = {str(name): " ".join(map(str, said)) if isinstance(said, list) else str(said)
                    for name, said in messages.items()}
        return dict.fromkeys(names, None) | {name: value for name, value in valid.items()
                                             if name in names}, problems


@cache
def _schema(schema_class: type[Schema]) -> Schema:
    return schema_class()
