"""The consumer API under ``/consumer``: orders, sync requests and status, the
credentials check, and its OpenAPI document; thin views over `tds`.

Every route but the document wants an API key (:mod:`.auth`); every error is
JSON, ``{"error": code, "message": ...}`` (:mod:`.answers`).
"""

from __future__ import annotations

from flask import Blueprint

from webhooks_app.consumer import answers, auth, docs, orders, sync

blueprint = Blueprint("consumer", __name__, url_prefix="/consumer")
blueprint.before_request(auth.require_api_key)
answers.register_errors(blueprint)
for child in (orders.blueprint, sync.blueprint, docs.blueprint):
    blueprint.register_blueprint(child)

__all__ = ["blueprint"]
