"""`POST /api/zoho/webhooks/<entity>`: translate HTTP to the inbox and back.

The view reads the request within bounds, lets
:class:`tds.inbox.ProcessorService` verify, validate and store the event in
a transaction it commits (within a bounded time, see ``storage``), hands it to
the background publisher (``handoff``) and answers: verify → parse → store →
answer, no broker on the way. Every answer is
JSON with a ``message``; every request writes one audit line to the
``tds.webhooks`` logger (never a secret or a signature).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tds.inbox import (
    IncomingWebhook,
    Receipt,
    UnknownEntityError,
    entity_for,
    sane_correlation_id,
)
from tds.logs import correlated, new_correlation_id
from tds.signatures import SignatureError
from tds.webhook_payloads import (
    InvalidPayloadError,
    UnsupportedContentTypeError,
    WebhookError,
    parse_query,
)
from webhooks_app.bodies import BodyTooLargeError, read_body
from webhooks_app.extensions import TDSExtension, tds_ext
from webhooks_app.storage import StoreUnavailableError

blueprint = Blueprint("webhooks", __name__, url_prefix="/api/zoho/webhooks")
audit = logging.getLogger("tds.webhooks")

ACCEPTED_METHODS = ("POST", "PUT", "DELETE")  # Zoho's webhook methods
CORRELATION_HEADER = "X-Correlation-ID"
RETRY_AFTER_SECONDS = "30"
# Refusals: (status, error code, audit outcome). The one place they meet HTTP.
REFUSALS: tuple[tuple[type[Exception], int, str], ...] = (
    (UnknownEntityError, 404, "not_found"),
    (SignatureError, 401, "unauthorized"),
    (UnsupportedContentTypeError, 415, "unsupported_media_type"),
    (InvalidPayloadError, 400, "bad_request"),
)


@dataclass
class Answer:
    """An HTTP answer plus what the audit line needs."""

    status: int
    body: dict[str, Any]
    outcome: str
    zoho_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@blueprint.route("/<entity>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def receive(entity: str) -> Response:
    """Take in one webhook for `entity`; see the module docstring for the answers."""
    started = time.perf_counter()
    correlation_id = (sane_correlation_id(request.headers.get("X-Correlation-ID"),
                                          request.headers.get("X-Request-ID"))
                      or new_correlation_id())
    with correlated(correlation_id):
        answer = _answer(entity, correlation_id)
        audit.info("webhook %s", answer.outcome, extra={
            "correlation_id": correlation_id, "entity": entity[:64], "zoho_id": answer.zoho_id,
            "outcome": answer.outcome, "status": answer.status,
            "event_id": answer.body.get("event_id"),
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        })
    response = jsonify(answer.body)
    response.status_code = answer.status
    response.headers.update(answer.headers)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


def _answer(entity: str, correlation_id: str) -> Answer:
    ext = tds_ext()
    try:
        known = entity_for(entity)
        if request.method not in ACCEPTED_METHODS:
            return Answer(405, _error("method_not_allowed", f"{request.method} is not accepted "
                                      "here; Zoho webhooks use POST, PUT or DELETE."),
                          "method_not_allowed", headers={"Allow": ", ".join(ACCEPTED_METHODS)})
        webhook = IncomingWebhook(
            entity=known, body=read_body(ext.settings.webhook_max_bytes),
            content_type=request.headers.get("Content-Type"),
            query=parse_query(request.query_string),
            headers={name.lower(): value for name, value in request.headers.items()},
            correlation_id=correlation_id, method=request.method,
        )
        receipt = ext.store.run(lambda: _store(ext, webhook))
    except BodyTooLargeError:
        return Answer(413, _error("payload_too_large", "The body is larger than "
                                  f"{ext.settings.webhook_max_bytes} bytes "
                                  "(TDS_WEBHOOK_MAX_BYTES)."), "payload_too_large")
    except (WebhookError, SignatureError) as error:
        status, code = next((status, code) for kind, status, code in REFUSALS
                            if isinstance(error, kind))
        return Answer(status, _error(code, str(error)), code)
    except (SQLAlchemyError, StoreUnavailableError) as error:
        audit.warning("database cannot store the event",
                      extra={"error": f"{type(error).__name__}: {str(error)[:200]}"})
        return Answer(503, _error("service_unavailable", "The event could not be stored "
                                  "because the database is unavailable; nothing was accepted. "
                                  "Send it again later."), "unavailable",
                      headers={"Retry-After": RETRY_AFTER_SECONDS})
    if receipt.ignored:
        return Answer(202, {"accepted": True, "ignored": True, "event_id": receipt.event_id,
                            "correlation_id": correlation_id,
                            "message": f"Event stored but not applied: {receipt.ignored}."},
                      "ignored", receipt.zoho_id)
    if receipt.duplicate:
        return Answer(200, {"duplicate": True, "event_id": receipt.event_id,
                            "message": "This event was received before; it is not processed "
                                       "twice."}, "duplicate", receipt.zoho_id)
    return Answer(202, {"accepted": True, "event_id": receipt.event_id,
                        "correlation_id": correlation_id,
                        "message": "Event stored; it goes for processing at once."},
                  "accepted", receipt.zoho_id)


def _store(ext: TDSExtension, webhook: IncomingWebhook) -> Receipt:
    """Store the event (one transaction) and hand it to the publisher; again once if the
    pooled connection was dead.

    The engine does not ping on checkout (a round trip per request), so a
    connection the database dropped (a restart) shows up here; the insert
    then invalidates the whole pool and the second attempt connects afresh,
    failing at once if the database is really down. Repeating is safe even
    after a commit whose answer was lost: the dedup key turns the second
    insert into a duplicate, and the sweeper publishes the stored event.
    """
    try:
        receipt = ext.service.store(ext.database.engine, webhook)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        receipt = ext.service.store(ext.database.engine, webhook)
    if not (receipt.duplicate or receipt.ignored):
        ext.events.hand(receipt.event_id, receipt.entity)
    return receipt


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": code, "message": message}
