"""The consumer API's answers: JSON bodies dumped through their documented schema,
errors as ``{"error": code, "message": ..., "fields": {...}}``, and request bodies
read within bounds.

`tds` errors meet HTTP here and only here: an invalid order is 400 with a message
per field, a key or reference standing for another order 409, an unreadable body
400, a body too large 413, a wrong Content-Type 415, a database (or Redis) that
cannot be reached 503.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema
from sqlalchemy.exc import SQLAlchemyError

from tds.orders import IdempotencyConflictError, OrderInvalidError
from tds.webhook_payloads import InvalidPayloadError, UnsupportedContentTypeError, json_document
from webhooks_app.bodies import BodyTooLargeError, read_body

log = logging.getLogger("tds.consumer")
RETRY_AFTER_SECONDS = "30"


class ApiError(Exception):
    """An error answer: HTTP status, error code, a message saying what to do."""

    def __init__(self, status: int, code: str, message: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extra = extra


def answer(schema: Schema, body: Any, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """`body` dumped through `schema` (the shape the OpenAPI document gives)."""
    response = jsonify(schema.dump(body))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def request_json(max_bytes: int) -> Any:
    """The request's JSON document: 413 over `max_bytes`, 415 unless JSON, 400 unreadable."""
    try:
        return json_document(request.headers.get("Content-Type"), read_body(max_bytes))
    except BodyTooLargeError:
        raise ApiError(413, "payload_too_large", f"The body is larger than {max_bytes} bytes "
                       "(TDS_WEBHOOK_MAX_BYTES).") from None
    except UnsupportedContentTypeError as error:
        raise ApiError(415, "unsupported_media_type", str(error)) from None
    except InvalidPayloadError as error:
        raise ApiError(400, "bad_request", str(error)) from None


def register_errors(blueprint: Blueprint) -> None:
    """Turn our errors into JSON answers for every route under `blueprint`."""
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(OrderInvalidError, lambda error: _api_error(ApiError(
        400, "validation_failed", "The order is not valid: fix the fields named in "
        "`fields`.", fields=error.messages)))
    blueprint.register_error_handler(IdempotencyConflictError, lambda error: _api_error(
        ApiError(409, "conflict", str(error))))
    blueprint.register_error_handler(SQLAlchemyError, _unavailable)
    blueprint.register_error_handler(redis.RedisError, _unavailable)


def _api_error(error: ApiError) -> Response:
    response = jsonify({"error": error.code, "message": error.message, **error.extra})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _unavailable(error: SQLAlchemyError | redis.RedisError) -> Response:
    log.warning("a store is unavailable", extra={
        "error": f"{type(error).__name__}: {str(error)[:200]}"})
    return _api_error(ApiError(503, "service_unavailable", "The database (or Redis) cannot be "
                               "reached; nothing was stored. Send the request again later.",
                               headers={"Retry-After": RETRY_AFTER_SECONDS}))
