"""Webhook payload parsing and validation without HTTP or a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tds.entities import BY_WEBHOOK
from tds.webhook_payloads import (
    InvalidPayloadError,
    UnsupportedContentTypeError,
    parse_body,
    validate_record,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("2023-11-18T02:02:51-0800", datetime(2023, 11, 18, 10, 2, 51, tzinfo=UTC)),
    ("2023-11-18T02:02:51+05:30", datetime(2023, 11, 17, 20, 32, 51, tzinfo=UTC)),
    ("2023-11-18T02:02:51Z", datetime(2023, 11, 18, 2, 2, 51, tzinfo=UTC)),
])
def test_zoho_datetimes_become_aware_utc(text: str, expected: datetime) -> None:
    parsed = validate_record(BY_WEBHOOK["products"],
                             {"item_id": "1", "last_modified_time": text}).last_modified_time
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo == UTC


def test_unknown_fields_are_excluded_but_the_raw_record_is_kept() -> None:
    record = validate_record(BY_WEBHOOK["invoices"], {"invoice": {
        "invoice_id": "9", "custom_field_hash": {"x": 1}, "organization_id": "10234695"}})
    assert (record.zoho_id, record.organization_id) == ("9", "10234695")
    assert record.record["custom_field_hash"] == {"x": 1}


def test_a_stock_webhook_may_be_an_inventory_adjustment() -> None:
    stock = BY_WEBHOOK["stock"]
    adjustment = {"inventory_adjustment": {"inventory_adjustment_id": "31",
                                           "line_items": [{"item_id": "5"}]}}
    assert validate_record(stock, adjustment).zoho_id == "31"
    assert validate_record(stock, {"item": {"item_id": "5"}}).zoho_id == "5"
    with pytest.raises(InvalidPayloadError, match="inventory_adjustment_id or item_id"):
        validate_record(stock, {"inventory_adjustment": {"line_items": []}})


def test_form_without_jsonstring_is_read_as_fields() -> None:
    parsed = parse_body("application/x-www-form-urlencoded", b"item_id=12&name=a+b")
    assert parsed.document == {"item_id": "12", "name": "a b"}
    assert parsed.signed_body == b""
    assert validate_record(BY_WEBHOOK["products"], parsed.document).zoho_id == "12"


def test_json_with_a_charset_and_vendor_json_types_are_accepted() -> None:
    assert parse_body("application/json; charset=utf-8", b'{"a": 1}').document == {"a": 1}
    assert parse_body("application/vnd.zoho+json", b'{"a": 1}').document == {"a": 1}
    assert parse_body("text/json", b'{"a": 1}').document == {"a": 1}  # JSON is JSON
    with pytest.raises(UnsupportedContentTypeError):
        parse_body("text/json", b"a=1")
