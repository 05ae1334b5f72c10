"""Webhooks are emitted on change and signed as the receiver verifies them."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

from tds.sandbox import SandboxServer
from tds.signatures import verify_standard, verify_zoho
from tests.fixtures.sandbox import WebhookSink

SECRET = "sandboxsecret1234"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_zoho_signed_json_webhooks(webhook_sink: WebhookSink,
                                   sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, webhook_secret=SECRET)
    changed = server.admin.change("items", 3)
    assert server.admin.flush_webhooks()
    assert len(webhook_sink.received) == 3
    for sent in webhook_sink.received:
        assert (sent.method, sent.path, sent.query) == ("POST", "/api/zoho/webhooks/products", [])
        verify_zoho([SECRET], sent.headers["X-Zoho-Webhook-Signature"], sent.body)
    ids = {json.loads(sent.body)["item"]["item_id"] for sent in webhook_sink.received}
    assert ids == {row["id"] for row in changed}
    assert server.admin.stats()["webhooks_sent"] == 3


def test_zoho_signed_form_webhooks(webhook_sink: WebhookSink,
                                   sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, webhook_secret=SECRET,
                             webhook_format="form")
    server.admin.change("creditnotes", 1)
    assert server.state.emitter.flush()
    sent = webhook_sink.received[0]
    pairs = parse_qsl(sent.body.decode())
    assert sent.path.endswith("/credit-notes")
    verify_zoho([SECRET], sent.headers["X-Zoho-Webhook-Signature"], b"", pairs)
    assert "creditnote" in json.loads(dict(pairs)["JSONString"])


def test_standard_signed_webhooks(webhook_sink: WebhookSink,
                                  sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, webhook_secret=STANDARD_SECRET,
                             webhook_scheme="standard")
    server.admin.change("pricebooks", 1)
    assert server.state.emitter.flush()
    sent = webhook_sink.received[0]
    assert sent.path.endswith("/prices")
    verify_standard([STANDARD_SECRET], sent.headers["webhook-id"],
                    sent.headers["webhook-timestamp"], sent.headers["webhook-signature"],
                    sent.body)


def test_stock_change_emits_item_and_adjustment(
        webhook_sink: WebhookSink, sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, webhook_secret=SECRET)
    server.admin.change("inventory_adjustments", 1)
    assert server.state.emitter.flush()
    assert sorted(sent.path.rsplit("/", 1)[1] for sent in webhook_sink.received) == [
        "products", "stock"]


def test_unreachable_receiver_is_counted(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url="http://127.0.0.1:9/hooks")
    server.admin.change("invoices", 1)
    assert server.state.emitter.flush()
    assert server.admin.stats()["webhooks_failed"] == 1
