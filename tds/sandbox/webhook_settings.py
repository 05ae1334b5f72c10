"""Books' webhook settings API, ``/books/v3/settings/webhooks``: create, list, get,
update and delete the webhooks Zoho's workflow rules call.

Zoho documents the create (``zoho-books-api.md``, "Webhooks can be managed by
API": ``entity``, ``webhook_name`` of at most 50 characters, ``description``,
``method`` POST, PUT or DELETE, ``url``, ``query_parameters[]``, ``headers[]`` and
``form_data[]`` as ``param_name``/``param_value`` pairs, ``body_type``,
``raw_data``, a ``secret`` of 12-50 alphanumeric characters, ``events[]``); list,
get, update and delete follow the usual Books pattern, which is unconfirmed, and so
is whether an answer shows the secret: this one never does. Names need not be
unique. A webhook fires only from a workflow rule, which is made in Zoho's UI: the
sandbox sends its own webhooks (:mod:`tds.sandbox.webhooks`) whatever is registered.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from tds.sandbox.app import json_body, state, success
from tds.sandbox.webhook_book import shown, valid
from tds.sandbox.writes import ZohoFault

blueprint = Blueprint("sandbox_webhook_settings", __name__)
BASE = "/books/v3/settings/webhooks"


def _missing() -> ZohoFault:
    return ZohoFault(404, 1002, "Webhook does not exist.")


@blueprint.route(BASE, methods=["GET", "POST"])
def collection() -> Response:
    book = state().webhooks
    if request.method == "POST":
        created = book.create(valid(json_body()))
        return success({"webhook": shown(created)}, 201, "Webhook has been created.")
    return success({"webhooks": [shown(webhook) for webhook in book.all()]})


@blueprint.route(f"{BASE}/<webhook_id>", methods=["GET", "PUT", "DELETE"])
def member(webhook_id: str) -> Response:
    book = state().webhooks
    method = request.method
    if method == "PUT":
        updated = book.update(webhook_id, valid(json_body()))
        if updated is None:
            raise _missing()
        return success({"webhook": shown(updated)}, 200, "Webhook has been updated.")
    if method == "DELETE":
        if not book.delete(webhook_id):
            raise _missing()
        return success({}, 200, "Webhook has been deleted.")
    found = next((webhook for webhook in book.all() if webhook["webhook_id"] == webhook_id),
                 None)
    if found is None:
        raise _missing()
    return success({"webhook": shown(found)})
