"""Signed webhooks to the receiver when sandbox records change or are deleted.

A change is POSTed as ``{"<single_key>": <record>}`` (``webhook_payload="id"``:
only its id) to ``<webhook_url>/<webhook_entity>``. Zoho's workflow rules
fire on Deleted too, and how they say so is the user's choice (the sheet):
``deleted_webhook="method"`` sends a DELETE, ``"param"`` a POST with
``<action_param>=deleted`` (and edits then carry ``<action_param>=edited``,
one workflow per action), ``"none"`` nothing. A deletion's body names only
the id. Zoho's signature covers the query pairs sent, then the body.

Sending happens on one worker thread fed by a queue, so a request or the
change generator never waits on the receiver; ``flush`` lets tests and
benchmarks wait until everything queued has been sent.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from tds.sandbox.config import SandboxConfig
from tds.sandbox.data import Record
from tds.sandbox.entities import SPECS
from tds.sandbox.stats import Stats
from tds.signatures import sign_standard, sign_zoho

SEND_TIMEOUT_SECONDS = 10.0
EDITED, DELETED = "edited", "deleted"


@dataclass(frozen=True)
class Delivery:
    """One webhook as it goes on the wire (``url`` with its query string)."""

    url: str
    body: bytes
    headers: dict[str, str]
    method: str = "POST"


def build_delivery(config: SandboxConfig, entity: str, record: Record,
                   action: str = EDITED) -> Delivery | None:
    """The signed request for ``action`` ("edited" or "deleted") on ``record``, or None
    when nothing is sent."""
    spec = SPECS[entity]
    if not config.webhook_url or spec.webhook_entity is None or (
            action == DELETED and config.deleted_webhook == "none"):
        return None
    query = [(config.action_param, action)] if config.deleted_webhook == "param" else []
    url = f"{config.webhook_url.rstrip('/')}/{spec.webhook_entity}"
    if query:
        url += "?" + urlencode(query)
    document = record if action == EDITED and config.webhook_payload == "record" else {
        spec.id_field: record[spec.id_field]}
    payload = json.dumps({spec.single_key: document}, separators=(",", ":"))
    if config.webhook_format == "form":
        body = urlencode({"JSONString": payload}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        # Zoho signs query and form pairs (decoded) followed by the JSON body, here empty.
        signed_body, pairs = b"", [*query, ("JSONString", payload)]
    else:
        body = payload.encode()
        headers = {"Content-Type": "application/json"}
        signed_body, pairs = body, query
    if config.webhook_secret:
        headers.update(_signature_headers(config, config.webhook_secret, signed_body, pairs, body))
    method = "DELETE" if action == DELETED and config.deleted_webhook == "method" else "POST"
    return Delivery(url, body, headers, method)


def _signature_headers(config: SandboxConfig, secret: str, signed_body: bytes,
                       pairs: list[tuple[str, str]], body: bytes) -> dict[str, str]:
    if config.webhook_scheme == "standard":
        msg_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
        return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                "webhook-signature": sign_standard(secret, msg_id, timestamp, body)}
    return {"X-Zoho-Webhook-Signature": sign_zoho(secret, signed_body, pairs)}


class WebhookEmitter:
    """Queues changed and deleted records and sends them from a background thread."""

    def __init__(self, config: SandboxConfig, stats: Stats) -> None:
        self.config = config
        self.stats = stats
        self.queue: queue.Queue[Delivery | None] = queue.Queue()
        self.idle = threading.Condition()
        self.pending = 0
        self.session = requests.Session()
        self.thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self.thread.start()

    def emit(self, entity: str, record: Record) -> None:
        """Queue the edited webhook for ``record`` (no-op without a webhook URL)."""
        self._queue(build_delivery(self.config, entity, record))

    def emit_deleted(self, entity: str, record_id: str) -> None:
        """Queue the deleted webhook for the record ``record_id`` of ``entity``."""
        self._queue(build_delivery(self.config, entity, {SPECS[entity].id_field: record_id},
                                   DELETED))

    def _queue(self, delivery: Delivery | None) -> None:
        if delivery is None:
            return
        with self.idle:
            self.pending += 1
        self.queue.put(delivery)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued webhook was sent; False when ``timeout`` ran out."""
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=SEND_TIMEOUT_SECONDS)
        self.session.close()

    def _run(self) -> None:
        while (delivery := self.queue.get()) is not None:
            self._send(delivery)
            with self.idle:
                self.pending -= 1
                self.idle.notify_all()

    def _send(self, delivery: Delivery) -> None:
        try:
            answer = self.session.request(delivery.method, delivery.url, data=delivery.body,
                                          headers=delivery.headers,
                                          timeout=SEND_TIMEOUT_SECONDS)
        except requests.RequestException:
            self.stats.add("webhooks_failed")
            return
        self.stats.add("webhooks_sent" if answer.ok else "webhooks_failed")
        self.stats.add(f"webhooks_status_{answer.status_code}")
