"""The sandbox's registered webhooks, and what a valid one is (see
:mod:`tds.sandbox.webhook_settings` for the routes and what Zoho documents)."""

from __future__ import annotations

import re
import threading
from typing import Any

from tds.sandbox.writes import ZohoFault, invalid

# The modules whose workflow rules TDS's entities hear from.
ENTITIES = frozenset({"item", "contact", "invoice", "bill", "creditnote", "salesorder",
                      "inventory_adjustment"})
METHODS = frozenset({"POST", "PUT", "DELETE"})
SECRET = re.compile(r"[A-Za-z0-9]{12,50}")
PAIR_LISTS = ("query_parameters", "headers", "form_data")
FIRST_ID = 460_000_000_900_000


class WebhookBook:
    """The registered webhooks, by id; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.next_id = FIRST_ID

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            webhook_id = str(self.next_id)
            self.webhooks[webhook_id] = {**fields, "webhook_id": webhook_id}
            return dict(self.webhooks[webhook_id])

    def update(self, webhook_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        with self.lock:
            if webhook_id not in self.webhooks:
                return None
            self.webhooks[webhook_id] = {**fields, "webhook_id": webhook_id}
            return dict(self.webhooks[webhook_id])

    def delete(self, webhook_id: str) -> bool:
        with self.lock:
            return self.webhooks.pop(webhook_id, None) is not None

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(webhook) for webhook in self.webhooks.values()]


def shown(webhook: dict[str, Any]) -> dict[str, Any]:
    """A webhook as an answer shows it: everything but the secret."""
    return {key: value for key, value in webhook.items() if key != "secret"}


def valid(body: dict[str, Any]) -> dict[str, Any]:
    """The webhook `body` describes, checked as Zoho documents the fields."""
    if body.get("entity") not in ENTITIES:
        raise invalid("entity")
    name = body.get("webhook_name")
    if not isinstance(name, str) or not 0 < len(name) <= 50:
        raise invalid("webhook_name")
    method = body.get("method", "POST")
    if method not in METHODS:
        raise invalid("method")
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise invalid("url")
    secret = body.get("secret")
    if secret is not None and (not isinstance(secret, str) or not SECRET.fullmatch(secret)):
        raise ZohoFault(400, 4, "Invalid value passed for secret: use 12 to 50 letters and "
                                "digits.")
    for key in PAIR_LISTS:
        pairs = body.get(key, [])
        if not isinstance(pairs, list) or not all(
                isinstance(pair, dict) and isinstance(pair.get("param_name"), str)
                and isinstance(pair.get("param_value"), str) for pair in pairs):
            raise invalid(key)
    events = body.get("events", [])
    if not isinstance(events, list) or not all(isinstance(event, str) for event in events):
        raise invalid("events")
    return {"entity": body["entity"], "webhook_name": name,
            "description": str(body.get("description", "")), "method": method, "url": url,
            **{key: body.get(key, []) for key in PAIR_LISTS},
            "body_type": str(body.get("body_type", "")), "raw_data": str(body.get("raw_data", "")),
            "events": events, **({"secret": secret} if secret else {})}
