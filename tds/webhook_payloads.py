"""Webhook bodies turned into plain data: parse, guard, validate.

Zoho's default body shape is unconfirmed, so every entity accepts a
wrapper keyed by its single-object key (``{"item": {...}}``), a bare
object, or a form-encoded body whose ``JSONString`` field holds the JSON
(a form without it is read as the record's fields). A marshmallow schema
per entity requires the Zoho id and reads ``last_modified_time``; unknown
fields are excluded from the validated data but the raw record is kept
as the payload the workers apply.

:func:`json_document` reads a consumer API body with the same guards.

Everything a hostile sender could use to make storage fail later (NUL
characters, lone surrogates, non-finite or absurd numbers, duplicate
keys, deep nesting) is refused here with :class:`InvalidPayloadError`, so the
receiver answers 400 rather than failing on insert.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates_schema

from tds.entities import Entity
from tds.errors import TDSError
from tds.mapping import parse_zoho_time

JSON_TYPES = ("application/json",)
FORM_TYPE = "application/x-www-form-urlencoded"
FORM_JSON_FIELD = "JSONString"
MAX_DEPTH = 64
MAX_FORM_FIELDS = 1000
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
ORGANIZATION_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
ISO_TIME = re.compile(r"[+-]?\d{4,}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class WebhookError(TDSError):
    """A webhook the receiver refuses; the subclass says which answer to give."""


class InvalidPayloadError(WebhookError):
    """The body is not well-formed JSON or form data, or fails validation (400)."""


class UnsupportedContentTypeError(WebhookError):
    """The body is neither JSON nor form-encoded (415)."""


@dataclass(frozen=True)
class ParsedBody:
    """A body read into JSON data, plus the form pairs Zoho's signature covers."""

    text: str  # the body, decoded once
    document: Any
    form_pairs: tuple[tuple[str, str], ...]
    signed_body: bytes  # the JSON part of Zoho's signed string (empty for forms)


@dataclass(frozen=True)
class WebhookRecord:
    """One validated entity record from a webhook."""

    zoho_id: str
    last_modified_time: datetime | None
    organization_id: str | None
    record: dict[str, Any]  # the raw record, unknown fields included

    def dedup_digest(self, entity: str, method: str = "POST", action: str = "") -> str:
        """sha256 of the entity, the delivery's method and action, and the record's
        canonical JSON (the same body under a Deleted rule is another event)."""
        canonical = json.dumps(self.record, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(f"{entity}\n{method}\n{action}\n{canonical}".encode()
                              ).hexdigest()


def media_type(content_type: str | None) -> str:
    """The bare, lower-case media type of a Content-Type header."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_body(content_type: str | None, body: bytes,
               query: tuple[tuple[str, str], ...] = ()) -> ParsedBody:
    """Read `body` as JSON or form data, tolerant of what senders get wrong.

    A body that is a JSON object or array is read as JSON whatever its label
    (integrations send raw ``${JSONString}`` as form-encoded, ``zoho-books-api.md``);
    a form body is read as form pairs (its ``JSONString`` field holding the JSON);
    an empty body takes the record from the query string (a DELETE may carry only
    the id there). Anything else is :class:`UnsupportedContentTypeError`.
    """
    kind = media_type(content_type)
    declared_json = kind in JSON_TYPES or (kind.startswith("application/")
                                           and kind.endswith("+json"))
    stripped = body.strip()
    if not stripped:
        if query:
            return ParsedBody("", dict(query), (), b"")
        raise InvalidPayloadError("The body is empty; send the record as JSON.")
    if declared_json or stripped[:1] in (b"{", b"["):
        text = _utf8(body)
        return ParsedBody(text, loads(text), (), body)
    if kind != FORM_TYPE:
        raise UnsupportedContentTypeError(
            f"Content-Type {kind or '(none)'!r} is not accepted; send application/json or "
            f"{FORM_TYPE} with a {FORM_JSON_FIELD} field."
        )
    text = _utf8(body)
    pairs = tuple(_form_pairs(text))
    _check_strings(pairs)
    fields_by_name = dict(pairs)
    if len(fields_by_name) != len(pairs):
        raise InvalidPayloadError("A form field appears more than once; send each field once.")
    if FORM_JSON_FIELD in fields_by_name:
        return ParsedBody(text, loads(fields_by_name[FORM_JSON_FIELD]), pairs, b"")
    return ParsedBody(text, fields_by_name, pairs, b"")


def json_document(content_type: str | None, body: bytes) -> Any:
    """The body of a JSON API request (the consumer API's), read as strictly as a
    webhook's (:func:`loads`); only ``application/json`` is accepted (no guessing: our
    own clients send what they say)."""
    kind = media_type(content_type)
    if kind not in JSON_TYPES:
        raise UnsupportedContentTypeError(
            f"Content-Type {kind or '(none)'!r} is not accepted; send application/json.")
    if not body.strip():
        raise InvalidPayloadError("The body is empty; send a JSON object.")
    return loads(_utf8(body))


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")  # a byte-order mark some senders prepend goes
    except UnicodeDecodeError:
        raise InvalidPayloadError("The body is not valid UTF-8.") from None


def _form_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=True,
                         encoding="utf-8", errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidPayloadError(f"The form body is malformed ({error}).") from None


def loads(text: str) -> Any:
    """Strict JSON: no duplicate keys, NaN or infinities, bounded depth, storable strings."""
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys,
                              parse_constant=_no_constant, parse_float=_finite_float)
    except InvalidPayloadError:
        raise
    except RecursionError:
        raise InvalidPayloadError(f"The JSON is nested too deeply (limit {MAX_DEPTH}).") from None
    except ValueError as error:  # JSONDecodeError, or an integer over Python's digit limit
        raise InvalidPayloadError(f"The body is not well-formed JSON: {error}.") from None
    _check_strings(document)
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise InvalidPayloadError("A JSON object repeats a key; send each key once.")
    return document


def _no_constant(name: str) -> Any:
    raise InvalidPayloadError(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidPayloadError(f"The number {text[:40]} is out of range.")
    return value


def _check_strings(document: Any) -> None:
    """Walk `document` without recursion: bounded depth, strings a database can store."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidPayloadError(f"The JSON is nested too deeply (limit {MAX_DEPTH}).")
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise InvalidPayloadError("The body contains a NUL character, which cannot be stored.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPayloadError("The body contains an unpaired surrogate "
                                  "(\\ud800-\\udfff).") from None


class ZohoId(fields.Field[str]):
    """A Zoho id: digits (as a string or a number) or a short token of letters and digits."""

    pattern = ID_PATTERN
    default_error_messages = {  # noqa: RUF012 - marshmallow's own declaration style.
        "invalid": "Must be a Zoho id: 1-64 letters, digits, '-' or '_' (a string or a number).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.make_error("invalid")
        text = str(value).strip() if isinstance(value, str) or value >= 0 else ""
        if not self.pattern.fullmatch(text):
            raise self.make_error("invalid")
        return text


class OrganizationId(ZohoId):
    pattern = ORGANIZATION_PATTERN
    default_error_messages = {  # noqa: RUF012 - marshmallow's own declaration style.
        "invalid": "Must be a Zoho organization id: 1-32 letters, digits, '-' or '_'.",
    }


class ZohoDateTime(fields.Field[datetime | None]):
    """Zoho's ``2023-11-18T02:02:51-0800`` (or any ISO 8601 with offset) as aware UTC.

    Anything else (a time in the organization's display format, ``18 Nov 2023,
    02:02 AM``, from a placeholder) is no version: the record is fetched. An ISO
    time outside the years datetimes hold is refused as invalid."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own declaration style.
        "invalid": "Must be a date-time like 2023-11-18T02:02:51-0800, within years 1-9999.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> datetime | None:
        if not isinstance(value, str) or len(value) > 64:
            return None
        try:
            return parse_zoho_time(value)
        except ValueError:
            if ISO_TIME.match(value.strip()):
                raise self.make_error("invalid") from None
            return None


def organization_id(value: str) -> str:
    """`value` if it is a Zoho organization id; :class:`InvalidPayloadError` otherwise."""
    if not ORGANIZATION_PATTERN.fullmatch(value):
        raise InvalidPayloadError("The organization_id is not a Zoho organization id "
                                  "(1-32 letters, digits, '-' or '_').")
    return value


class RecordSchema(Schema):
    """Fields every entity's webhook record shares; subclasses add the id fields."""

    class Meta:
        unknown = EXCLUDE

    organization_id = OrganizationId(load_default=None, allow_none=True)
    id_fields: tuple[str, ...] = ()

    @validates_schema
    def _one_id(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(data.get(f"id_{index}") for index in range(len(self.id_fields))):
            raise ValidationError("Missing data for required field.",
                                  field_name=" or ".join(self.id_fields))


@cache
def record_schema(entity: Entity) -> Schema:
    """The marshmallow schema for one entity, built from its declaration."""
    names = entity.id_fields
    declared: dict[str, Any] = {
        f"id_{index}": ZohoId(data_key=name) for index, name in enumerate(names)
    }
    declared["id_fields"] = names
    declared["last_modified_time"] = ZohoDateTime(load_default=None, allow_none=True,
                                                  data_key=entity.modified_field)
    schema_class = type(f"{type(entity).__name__}RecordSchema", (RecordSchema,), declared)
    return schema_class()  # type: ignore[no-any-return]


def validate_record(entity: Entity, document: Any) -> WebhookRecord:
    """Validate one entity record; :class:`InvalidPayloadError` says which field is wrong."""
    if isinstance(document, list) and len(document) == 1:
        document = document[0]  # one record in an array
    if not isinstance(document, dict):
        raise InvalidPayloadError(f"Expected a JSON object (one record), got "
                                  f"{_json_kind(document)}.")
    record = entity.unwrap(document)
    if not isinstance(record, dict):
        raise InvalidPayloadError(f"The record must be a JSON object, got {_json_kind(record)}.")
    try:
        loaded = record_schema(entity).load(record)
    except ValidationError as error:
        raise InvalidPayloadError(f"The {entity.webhook} record is invalid: "
                                  f"{_describe(error.messages)}") from None
    zoho_id = next(loaded[f"id_{index}"] for index in range(len(entity.id_fields))
                   if loaded.get(f"id_{index}"))
    return WebhookRecord(zoho_id, loaded["last_modified_time"], loaded["organization_id"],
                         record)


def _describe(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_describe(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(str(message) for message in messages)
    return str(messages)


def _json_kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def parse_query(raw: bytes) -> tuple[tuple[str, str], ...]:
    """The query string's pairs, decoded strictly (they take part in Zoho's signature)."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                          errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except (ValueError, UnicodeDecodeError):
        raise InvalidPayloadError("The query string is not valid UTF-8 form data.") from None
    _check_strings(pairs)
    return tuple(pairs)
