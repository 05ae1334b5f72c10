"""``create_sandbox_app(config)``: the Zoho Books simulator as a Flask app.

The app holds one :class:`SandboxState` (the store, tokens, limits, faults,
stats and the webhook emitter) and three blueprints: the accounts server
(``/oauth/v2/token``), the API (``/books/v3``, ``/inventory/v1``) and the
test controls (``/__admin``).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from tds.sandbox.changes import Mutator
from tds.sandbox.config import SandboxConfig
from tds.sandbox.documents import generate_all
from tds.sandbox.entities import SPECS
from tds.sandbox.faults import Faults
from tds.sandbox.limits import RateLimiter
from tds.sandbox.stats import Stats
from tds.sandbox.store import Store
from tds.sandbox.tokens import TokenBook
from tds.sandbox.webhook_book import WebhookBook
from tds.sandbox.webhooks import WebhookEmitter
from tds.sandbox.writes import ZohoFault

STATE_KEY = "tds_sandbox"
DROPPED_KEY = "tds_sandbox_dropped"  # set on flask.g when the connection was cut


@dataclass
class SandboxState:
    """Everything a running sandbox knows; tests reach it through ``.state``."""

    config: SandboxConfig
    store: Store
    tokens: TokenBook
    limiter: RateLimiter
    faults: Faults
    stats: Stats
    emitter: WebhookEmitter
    mutator: Mutator
    webhooks: WebhookBook  # registered through /settings/webhooks

    @classmethod
    def build(cls, config: SandboxConfig) -> SandboxState:
        counts = {name: getattr(config, name) for name in SPECS}
        store = Store(generate_all(config.seed, counts))
        stats = Stats()
        emitter = WebhookEmitter(config, stats)
        return cls(config, store, TokenBook(config), RateLimiter(config), Faults(config), stats,
                   emitter, Mutator(store, emitter, config), WebhookBook())


def state() -> SandboxState:
    """The state of the app handling the current request."""
    found: SandboxState = current_app.extensions[STATE_KEY]
    return found


def zoho_error(status: int, code: int, message: str) -> Response:
    """Zoho's error envelope with an HTTP status."""
    answer = jsonify(code=code, message=message)
    answer.status_code = status
    return answer


def success(body: dict[str, Any], status: int = 200, message: str = "success") -> Response:
    """Zoho's success envelope: ``{"code": 0, "message": message, **body}``."""
    answer = jsonify(code=0, message=message, **body)
    answer.status_code = status
    return answer


def create_sandbox_app(config: SandboxConfig | None = None) -> Flask:
    """A ready sandbox app: data generated, webhook thread started."""
    from tds.sandbox import admin, books, oauth

    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[STATE_KEY] = SandboxState.build(config or SandboxConfig())
    app.register_blueprint(oauth.blueprint)
    app.register_blueprint(books.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_error_handler(ZohoFault, _fault_answer)
    app.register_error_handler(HTTPException, _http_answer)
    app.after_request(_count)
    return app


def _fault_answer(error: ZohoFault) -> Response:
    return zoho_error(error.status, error.code, error.message)


def _http_answer(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 404:
        return zoho_error(404, 5, "Invalid URL Passed")
    if status == 405:
        return zoho_error(405, 37, f"The HTTP method {request.method} is not allowed for the "
                                   "requested resource")
    return zoho_error(status, 1000 if status >= 500 else 4, error.description or "Error")


def _count(response: Response) -> Response:
    if not request.path.startswith("/__admin"):
        rule = request.url_rule.rule if request.url_rule else "(unmatched)"
        status = None if g.get(DROPPED_KEY) else response.status_code
        state().stats.served(f"{request.method} {rule}", status,
                             api=request.blueprint != "sandbox_oauth")
    return response


def drop_connection() -> Response:
    """Cut the client's connection: it sees no answer at all (a dropped connection)."""
    connection = request.environ.get("werkzeug.socket")
    if connection is None:
        # Not under werkzeug's server: the closest thing to a drop is an empty 500.
        return Response(status=500)
    connection.shutdown(socket.SHUT_RDWR)
    g.setdefault(DROPPED_KEY, True)
    return Response(status=500)  # never reaches the client: the socket is closed


def json_body() -> dict[str, Any]:
    """The request's JSON object, from a JSON body or a ``JSONString`` field.

    Zoho answers 1038 "JSON is not well formed" for anything unparsable or
    not an object.
    """
    text = request.values.get("JSONString")
    if text is None:
        text = request.get_data(as_text=True) or "{}"
    try:
        parsed = json.loads(text)
    except ValueError:
        raise ZohoFault(400, 1038, "JSON is not well formed") from None
    if not isinstance(parsed, dict):
        raise ZohoFault(400, 1038, "JSON is not well formed")
    return parsed
