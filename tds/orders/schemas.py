"""What a valid consumer order is, and the filters of the order list (marshmallow).

A customer is named by Zoho's id (``customer_id``) or by the id of our
``customers`` row (``local_customer_id``), an item likewise (``item_id`` or
``local_product_id``). Unknown fields are refused, so a misspelt field is an
error rather than silently dropped. Limits keep a body's rows and Zoho's fields
in bounds; whether Zoho limits ``reference_number`` to 50 characters is
unconfirmed, so we do.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validates,
    validates_schema,
)
from marshmallow.validate import Length, OneOf, Range, Regexp

# Zoho's ids are strings of digits (``zoho-books-api.md``).
ZOHO_ID = Regexp(r"^[0-9]{1,32}$", error="Give Zoho's id: digits only.")
PRINTABLE = Regexp(r"^[\x20-\x7e]+$", error="Use printable ASCII characters only.")
OWN_REFERENCE_PREFIX = "TDS-"  # references TDS makes for orders sent without one
MAX_LINES = 100
MAX_ID = 2**63 - 1  # a row id fits a signed 64-bit integer on both dialects
STATES = ("pending", "created", "rejected", "failed")


class LineItemSchema(Schema):
    """One line: an item, a quantity above 0, a rate of 0 or more, an optional text."""

    class Meta:
        unknown = RAISE

    item_id = fields.String(validate=ZOHO_ID, metadata={"description": "Zoho's item id."})
    local_product_id = fields.Integer(strict=True, validate=Range(min=1, max=MAX_ID), metadata={
        "description": "The id of our `products` row, instead of item_id."})
    quantity = fields.Float(required=True, allow_nan=False,
                            validate=Range(min=0, min_inclusive=False, max=1e9))
    rate = fields.Float(required=True, allow_nan=False, validate=Range(min=0, max=1e12),
                        metadata={"description": "Price of one unit, in the customer's "
                                                 "currency."})
    description = fields.String(validate=Length(max=2000))

    @validates_schema
    def one_item(self, data: dict[str, Any], **_: Any) -> None:
        if ("item_id" in data) == ("local_product_id" in data):
            raise ValidationError("Name the item by item_id (Zoho's) or local_product_id "
                                  "(ours): one of the two.", "item_id")


class OrderRequestSchema(Schema):
    """The body of ``POST /consumer/orders``."""

    class Meta:
        unknown = RAISE

    customer_id = fields.String(validate=ZOHO_ID, metadata={
        "description": "Zoho's contact id of the customer."})
    local_customer_id = fields.Integer(strict=True, validate=Range(min=1, max=MAX_ID),
                                       metadata={
        "description": "The id of our `customers` row, instead of customer_id."})
    line_items = fields.List(fields.Nested(LineItemSchema), required=True,
                             validate=Length(min=1, max=MAX_LINES))
    reference_number = fields.String(validate=[Length(min=1, max=50), PRINTABLE], metadata={
        "description": "Your reference; also makes a retried request safe when no "
                       "Idempotency-Key is sent. TDS makes one (TDS-<order id>) when "
                       "absent."})
    date = fields.Date(metadata={"description": "The order's date, YYYY-MM-DD."})
    notes = fields.String(validate=Length(max=5000))

    @validates("reference_number")
    def not_ours(self, value: str, **_: Any) -> None:
        if value.upper().startswith(OWN_REFERENCE_PREFIX):
            raise ValidationError(f"References starting with {OWN_REFERENCE_PREFIX} are the "
                                  "ones TDS makes; choose another prefix.")

    @validates_schema
    def one_customer(self, data: dict[str, Any], **_: Any) -> None:
        if ("customer_id" in data) == ("local_customer_id" in data):
            raise ValidationError("Name the customer by customer_id (Zoho's) or "
                                  "local_customer_id (ours): one of the two.", "customer_id")

    @post_load
    def plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """JSON-ready data: the date as text."""
        if isinstance(data.get("date"), date):
            data["date"] = data["date"].isoformat()
        return data


class OrderFiltersSchema(Schema):
    """The query of ``GET /consumer/orders``."""

    class Meta:
        unknown = RAISE

    status = fields.String(validate=OneOf(STATES))
    created_since = fields.AwareDateTime(default_timezone=None, metadata={
        "description": "ISO 8601 with an offset, e.g. 2026-01-31T00:00:00+00:00."})
    reference_number = fields.String(validate=[Length(min=1, max=50), PRINTABLE])
    after_id = fields.Integer(validate=Range(min=0, max=MAX_ID), metadata={
        "description": "Only orders with a larger id: the last id of the previous page."})
    limit = fields.Integer(load_default=50, validate=Range(min=1, max=200))
