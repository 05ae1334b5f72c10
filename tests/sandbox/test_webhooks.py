"""Webhooks are emitted on change and deletion, and signed as the receiver verifies them."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

import pytest

from tds.sandbox import SandboxConfig, SandboxServer
from tds.signatures import SignatureError, verify_standard, verify_zoho
from tests.fixtures.sandbox import Books, WebhookSink

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


def test_api_deletes_send_a_signed_delete(webhook_sink: WebhookSink,
                                          sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, webhook_secret=SECRET)
    invoice_id = sorted(server.admin.records("invoices"))[0]
    assert Books(server).call("DELETE", f"/invoices/{invoice_id}").json()["code"] == 0
    assert server.admin.flush_webhooks()
    [sent] = webhook_sink.received
    assert (sent.method, sent.path, sent.query) == ("DELETE", "/api/zoho/webhooks/invoices", [])
    assert json.loads(sent.body) == {"invoice": {"invoice_id": invoice_id}}
    verify_zoho([SECRET], sent.headers["X-Zoho-Webhook-Signature"], sent.body)


@pytest.mark.parametrize("webhook_format", ["json", "form"])
def test_action_parameter_names_edits_and_deletions(
        webhook_sink: WebhookSink, sandbox_factory: Callable[..., SandboxServer],
        webhook_format: str) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, webhook_secret=SECRET,
                             deleted_webhook="param", action_param="action",
                             webhook_format=webhook_format)
    [changed] = server.admin.change("contacts", 1)
    assert server.admin.delete("contacts", [changed["id"]], webhook=True) == [changed["id"]]
    assert server.admin.flush_webhooks()
    edited, deleted = webhook_sink.received
    assert [(sent.method, sent.query) for sent in (edited, deleted)] == [
        ("POST", [("action", "edited")]), ("POST", [("action", "deleted")])]
    for sent in (edited, deleted):
        form = parse_qsl(sent.body.decode()) if webhook_format == "form" else []
        signed_body = b"" if webhook_format == "form" else sent.body
        verify_zoho([SECRET], sent.headers["X-Zoho-Webhook-Signature"], signed_body,
                    [*sent.query, *form])
        with pytest.raises(SignatureError):  # the query pair is part of what is signed
            verify_zoho([SECRET], sent.headers["X-Zoho-Webhook-Signature"], signed_body, form)
    body = dict(parse_qsl(deleted.body.decode()))["JSONString"] if webhook_format == "form" \
        else deleted.body.decode()
    assert json.loads(body) == {"contact": {"contact_id": changed["id"]}}


def test_no_deleted_webhook_when_told_so(webhook_sink: WebhookSink,
                                         sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, deleted_webhook="none")
    item_id = sorted(server.admin.records("items"))[0]
    Books(server).call("DELETE", f"/items/{item_id}")
    server.admin.change("items", 1)
    assert server.admin.flush_webhooks()
    [sent] = webhook_sink.received
    assert (sent.method, sent.query) == ("POST", [])


def test_admin_deletes_are_silent_by_default(webhook_sink: WebhookSink,
                                             sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url)
    first, second = sorted(server.admin.records("bills"))[:2]
    server.admin.delete("bills", [first])
    server.admin.delete("bills", [second, "404"], webhook=True)
    assert server.admin.flush_webhooks()
    assert [(sent.method, json.loads(sent.body)) for sent in webhook_sink.received] == [
        ("DELETE", {"bill": {"bill_id": second}})]


def test_id_only_payloads(webhook_sink: WebhookSink,
                          sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url, webhook_payload="id")
    [changed] = server.admin.change("items", 1)
    assert server.admin.flush_webhooks()
    assert json.loads(webhook_sink.received[0].body) == {"item": {"item_id": changed["id"]}}


@pytest.mark.parametrize("bad", [{"deleted_webhook": "put"}, {"action_param": ""},
                                 {"webhook_payload": "json"}])
def test_webhook_settings_are_checked(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        SandboxConfig(**bad)  # type: ignore[arg-type]
