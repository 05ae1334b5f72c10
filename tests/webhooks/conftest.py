"""Webhook receiver fixtures: an app on the test database, and signed posts."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tds.config import Settings
from tds.db.models import InboxEvent
from tds.db.session import Database
from tds.signatures import sign_standard, sign_zoho
from tests.conftest import TEST_WEBHOOK_SECRET
from webhooks_app import create_app

STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PRODUCTS = "/api/zoho/webhooks/products"


@pytest.fixture
def app(settings: Settings, database: Database) -> Flask:
    return create_app(settings.with_overrides(standard_webhook_secrets=(STANDARD_SECRET,)),
                      database)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def item(item_id: str = "460000000012345", **fields: Any) -> dict[str, Any]:
    """A product record as Zoho sends it."""
    return {"item_id": item_id, "name": "Widget", "rate": 12.5,
            "last_modified_time": "2023-11-18T02:02:51-0800", **fields}


def unique_item(**fields: Any) -> dict[str, Any]:
    return item(str(uuid.uuid4().int % 10**15), **fields)


def zoho_headers(body: bytes, secret: str = TEST_WEBHOOK_SECRET,
                 pairs: list[tuple[str, str]] | None = None,
                 content_type: str = "application/json") -> dict[str, str]:
    return {"Content-Type": content_type,
            "X-Zoho-Webhook-Signature": sign_zoho(secret, body, pairs or [])}


def standard_headers(body: bytes, msg_id: str | None = None, timestamp: int | None = None,
                     secret: str = STANDARD_SECRET) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_standard(secret, msg_id, timestamp, body)}


def post_zoho(client: FlaskClient, document: Any, path: str = PRODUCTS,
              **headers: str) -> TestResponse:
    """POST `document` as JSON, signed with Zoho's scheme."""
    body = json.dumps(document).encode()
    return client.post(path, data=body, headers={**zoho_headers(body), **headers})


def post_form(client: FlaskClient, document: Any, path: str = PRODUCTS) -> TestResponse:
    """POST `document` form-encoded in a JSONString field, signed like Zoho does."""
    payload = json.dumps(document)
    body = urlencode({"JSONString": payload}).encode()
    headers = zoho_headers(b"", pairs=[("JSONString", payload)],
                           content_type="application/x-www-form-urlencoded")
    return client.post(path, data=body, headers=headers)


def events(database: Database) -> list[InboxEvent]:
    with database.session() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))
