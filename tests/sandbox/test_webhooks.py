"""Webhooks are emitted on change and signed as the receiver verifies them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from tds.sandbox import SandboxServer
from tds.signatures import verify_standard, verify_zoho

SECRET = "sandboxsecret1234"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
Received = list[tuple[str, dict[str, str], bytes]]


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    """A local HTTP server recording every POST (path, headers, body)."""
    received: Received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/zoho/webhooks", received
    server.shutdown()
    server.server_close()


def test_zoho_signed_json_webhooks(receiver: tuple[str, Received],
                                   sandbox_factory: Callable[..., SandboxServer]) -> None:
    url, received = receiver
    server = sandbox_factory(webhook_url=url, webhook_secret=SECRET)
    changed = server.admin.change("items", 3)
    assert server.admin.flush_webhooks()
    assert len(received) == 3
    for path, headers, body in received:
        assert path == "/api/zoho/webhooks/products"
        verify_zoho([SECRET], headers["X-Zoho-Webhook-Signature"], body)
    ids = {json.loads(body)["item"]["item_id"] for _, _, body in received}
    assert ids == {row["id"] for row in changed}
    assert server.admin.stats()["webhooks_sent"] == 3


def test_zoho_signed_form_webhooks(receiver: tuple[str, Received],
                                   sandbox_factory: Callable[..., SandboxServer]) -> None:
    url, received = receiver
    server = sandbox_factory(webhook_url=url, webhook_secret=SECRET, webhook_format="form")
    server.admin.change("creditnotes", 1)
    assert server.state.emitter.flush()
    path, headers, body = received[0]
    pairs = parse_qsl(body.decode())
    assert path.endswith("/credit-notes")
    verify_zoho([SECRET], headers["X-Zoho-Webhook-Signature"], b"", pairs)
    assert "creditnote" in json.loads(dict(pairs)["JSONString"])


def test_standard_signed_webhooks(receiver: tuple[str, Received],
                                  sandbox_factory: Callable[..., SandboxServer]) -> None:
    url, received = receiver
    server = sandbox_factory(webhook_url=url, webhook_secret=STANDARD_SECRET,
                             webhook_scheme="standard")
    server.admin.change("pricebooks", 1)
    assert server.state.emitter.flush()
    path, headers, body = received[0]
    assert path.endswith("/prices")
    verify_standard([STANDARD_SECRET], headers["webhook-id"], headers["webhook-timestamp"],
                    headers["webhook-signature"], body)


def test_stock_change_emits_item_and_adjustment(
        receiver: tuple[str, Received], sandbox_factory: Callable[..., SandboxServer]) -> None:
    url, received = receiver
    server = sandbox_factory(webhook_url=url, webhook_secret=SECRET)
    server.admin.change("inventory_adjustments", 1)
    assert server.state.emitter.flush()
    assert sorted(path.rsplit("/", 1)[1] for path, _, _ in received) == ["products", "stock"]


def test_unreachable_receiver_is_counted(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url="http://127.0.0.1:9/hooks")
    server.admin.change("invoices", 1)
    assert server.state.emitter.flush()
    assert server.admin.stats()["webhooks_failed"] == 1
