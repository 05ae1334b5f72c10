"""The webhook inbox: verify, validate and store events, then hand them to the queue.

:class:`ProcessorService` does the receiver's work without knowing HTTP,
Flask or Celery. The view builds an :class:`IncomingWebhook` from the
request and calls :meth:`ProcessorService.store` inside a unit of work it
commits before answering: the event is stored, durably, before anything
is answered. Publishing is not the receiver's job (a transactional
outbox): the relay (``workers/relay.py``) calls
:meth:`ProcessorService.publish_received` continuously with an
:class:`Enqueue` (Celery's ``send_task`` in practice), and the beat sweeper
does the same for events left ``received`` past the grace period, so a
broker or relay that is down delays events and loses none.

Contract with the workers: the task ``spec.event_task`` gets a list of
inbox event ids of its entity as its only argument; each event's
``payload`` is the entity record as Zoho sent it (unwrapped). The worker
marks each event processed, failed or dead. A task may run for an event
still marked ``received`` (the status update after a successful publish
can be lost) or twice (a relay crash between publish and commit): tasks
are idempotent.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from tds import signatures
from tds.config import Settings
from tds.db.driver_insert import DriverInsert
from tds.db.models import InboxEvent, InboxStatus
from tds.entities import BY_NAME, BY_WEBHOOK, EntitySpec
from tds.signatures import SignatureError
from tds.webhook_payloads import (
    InvalidPayloadError,
    UnsupportedContentTypeError,
    WebhookError,
    WebhookRecord,
    parse_body,
    validate_record,
)

__all__ = [
    "Enqueue", "IncomingWebhook", "InvalidPayloadError", "ProcessorService", "PublishRound",
    "Receipt",
    "SignatureError", "UnknownEntityError", "UnsupportedContentTypeError", "WebhookError",
    "sane_correlation_id",
]

log = logging.getLogger("tds.inbox")

ZOHO_SIGNATURE = "x-zoho-webhook-signature"
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
# Never stored: anything that authenticates the sender.
SECRET_HEADERS = frozenset({ZOHO_SIGNATURE, "webhook-signature", "authorization", "cookie",
                            "proxy-authorization", "x-api-key"})
MAX_HEADER_VALUE = 1024
MAX_STORED_HEADERS = 64
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
PUBLISH_BATCH = 500  # rows per publishing round
TASK_BATCH = 50  # event ids per task message: cheap to publish, still spread over workers
_INBOX: Table = InboxEvent.__table__  # type: ignore[assignment]
_STORED_COLUMNS = ("entity", "zoho_id", "organization_id", "dedup_key", "signature_scheme",
                   "content_type", "raw_body", "headers", "payload", "last_modified_time",
                   "correlation_id", "status", "attempts", "received_at")
_inserts: dict[str, DriverInsert] = {}  # per dialect, rendered on first use
# Only a still-received event changes: a fast worker may have processed it already.
_STILL_RECEIVED = _INBOX.c.status == InboxStatus.RECEIVED.value
_MARK_QUEUED = update(_INBOX).where(_STILL_RECEIVED).values(
    status=InboxStatus.QUEUED.value, queued_at=bindparam("queued_at"), error=None)
_NOTE_REFUSAL = update(_INBOX).where(_STILL_RECEIVED).values(error=bindparam("error"))
# Losing a `queued` mark in a crash is harmless (the relay publishes again, tasks are
# idempotent), so that commit need not wait for the WAL flush; the insert's does.
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")


class Enqueue(Protocol):
    """Publishes one task; raises when the broker does not take it."""

    def __call__(self, task_name: str, args: list[Any], queue: str) -> None: ...


class UnknownEntityError(WebhookError):
    """No webhook route exists for this entity (404)."""


@dataclass(frozen=True)
class IncomingWebhook:
    """A webhook request as plain data: what the view read from HTTP."""

    entity: str  # the path segment, e.g. "credit-notes"
    body: bytes
    content_type: str | None
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    correlation_id: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Receipt:
    """What happened to a webhook: stored anew, or a duplicate of `event_id`."""

    event_id: int
    spec: EntitySpec
    zoho_id: str
    scheme: str
    duplicate: bool


@dataclass(frozen=True)
class PublishRound:
    """What one publishing round did: events found, events published, broker refusal."""

    found: int
    published: int
    refused: bool


def sane_correlation_id(*candidates: str | None) -> str | None:
    """The first candidate that is a short token safe to log and echo, if any."""
    for candidate in candidates:
        if candidate and SANE_ID.fullmatch(candidate):
            return candidate
    return None


def spec_for(entity: str) -> EntitySpec:
    """The entity behind a webhook path segment, or :class:`UnknownEntityError`."""
    spec = BY_WEBHOOK.get(entity)
    if spec is None:
        raise UnknownEntityError(f"No webhook exists for {entity[:64]!r}; use one of "
                            f"{', '.join(sorted(BY_WEBHOOK))}.")
    return spec


class ProcessorService:
    """Verifies, validates, stores and enqueues webhook events; never commits."""

    def __init__(self, settings: Settings,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock

    # -- verify ---------------------------------------------------------
    def authenticate(self, webhook: IncomingWebhook,
                     form_pairs: Iterable[tuple[str, str]], signed_body: bytes) -> str:
        """The signature scheme that vouches for `webhook`; :class:`SignatureError` if none.

        The scheme is chosen by the headers present: Standard Webhooks, then
        Zoho's signature, then the shared token when one is configured.
        """
        settings = self.settings
        if any(webhook.header(name) for name in STANDARD_HEADERS):
            if not settings.standard_webhook_secrets:
                raise SignatureError("Standard Webhooks signatures are not enabled here "
                                     "(TDS_STANDARD_WEBHOOK_SECRET is not set).")
            signatures.verify_standard(
                settings.standard_webhook_secrets, webhook.header("webhook-id"),
                webhook.header("webhook-timestamp"), webhook.header("webhook-signature"),
                webhook.body, settings.webhook_tolerance_seconds, now=self.clock(),
            )
            return "standard"
        token = self._supplied_token(webhook)
        if webhook.header(ZOHO_SIGNATURE) is not None:
            if not settings.webhook_secrets:
                raise SignatureError("Zoho webhook signatures are not enabled here "
                                     "(TDS_WEBHOOK_SECRET is not set).")
            signatures.verify_zoho(settings.webhook_secrets, webhook.header(ZOHO_SIGNATURE),
                                   signed_body, [*webhook.query, *form_pairs])
            if token is not None:  # both sent: the token must be right as well
                signatures.verify_token(settings.webhook_token, token)
            return "zoho"
        if settings.webhook_token and token is not None:
            signatures.verify_token(settings.webhook_token, token)
            return "token"
        raise SignatureError("The webhook carries no signature; configure a secret (or token) "
                             "in Zoho's webhook settings.")

    def _supplied_token(self, webhook: IncomingWebhook) -> str | None:
        name = self.settings.webhook_token_param
        if not (self.settings.webhook_token and name):
            return None
        for key, value in webhook.query:
            if key == name:
                return value
        return webhook.header(name)

    # -- store ----------------------------------------------------------
    def store(self, engine: Engine, webhook: IncomingWebhook) -> Receipt:
        """Verify, validate and insert the event, committed before this returns.

        The one exception to "take a session, do not commit": a webhook is a
        single-row insert on the receiver's hot path, run on the driver in a
        transaction of its own (see :mod:`tds.db.driver_insert`).

        Raises a :class:`WebhookError` subclass or :class:`SignatureError`
        for a webhook to refuse. A duplicate (same ``webhook-id``, or the
        same entity and canonical record) returns the existing event's id:
        the UNIQUE dedup key decides, so concurrent copies store one row.
        """
        spec = spec_for(webhook.entity)
        parsed = parse_body(webhook.content_type, webhook.body)
        scheme = self.authenticate(webhook, parsed.form_pairs, parsed.signed_body)
        record = validate_record(spec, parsed.document)
        organization_id = record.organization_id or self._query_organization(webhook)
        dedup_key = self.dedup_key(spec, webhook, record)
        values = {
            "entity": spec.name, "zoho_id": record.zoho_id, "organization_id": organization_id,
            "dedup_key": dedup_key, "signature_scheme": scheme,
            "content_type": (webhook.content_type or "")[:128],
            "raw_body": webhook.body.decode("utf-8"),
            "headers": stored_headers(webhook.headers, self._secret_names()),
            "payload": record.record, "last_modified_time": record.last_modified_time,
            "correlation_id": webhook.correlation_id[:64], "status": InboxStatus.RECEIVED.value,
            "attempts": 0, "received_at": self._now(),
        }
        event_id = _insert_new(engine, values)
        if event_id is None:  # the dedup key exists: a replay, or a concurrent copy won
            with engine.connect() as connection:
                event_id = connection.scalar(
                    select(_INBOX.c.id).where(_INBOX.c.dedup_key == dedup_key))
            if event_id is None:
                raise RuntimeError(f"inbox event {dedup_key} conflicted but cannot be found")
            return Receipt(event_id, spec, record.zoho_id, scheme, duplicate=True)
        return Receipt(event_id, spec, record.zoho_id, scheme, duplicate=False)

    def dedup_key(self, spec: EntitySpec, webhook: IncomingWebhook,
                  record: WebhookRecord) -> str:
        """``webhook-id`` when sent, else sha256 of the entity and canonical record."""
        message_id = webhook.header("webhook-id")
        if message_id:
            if SANE_ID.fullmatch(message_id):
                return f"wh:{message_id}"
            return "wh-sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
        return "sha256:" + record.dedup_digest(spec.name)

    def _query_organization(self, webhook: IncomingWebhook) -> str | None:
        for key, value in webhook.query:
            if key == "organization_id":
                if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", value):
                    raise InvalidPayloadError("The organization_id query parameter is not a Zoho "
                                         "organization id.")
                return value
        return None

    def _secret_names(self) -> frozenset[str]:
        token_header = self.settings.webhook_token_param.lower()
        return SECRET_HEADERS | {token_header} if token_header else SECRET_HEADERS

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- publish --------------------------------------------------------
    def publish_received(self, session: Session, enqueue: Enqueue, *,
                         older_than: timedelta = timedelta(0), now: datetime | None = None,
                         limit: int = PUBLISH_BATCH) -> PublishRound:
        """Publish the tasks of events still ``received``, oldest first.

        The relay calls this continuously (``older_than`` zero), the beat sweeper
        with the grace period as a safety net for a relay that is not running.
        One message carries up to :data:`TASK_BATCH` ids of one entity. Stops at
        the first refused publish (the broker is down: the next round tries
        again) and notes the error on the rows left. On Postgres the rows are
        locked with SKIP LOCKED, so two relays never take the same event. A
        crash after a publish but before the commit publishes again later;
        tasks are idempotent.
        """
        now = now or self._now()
        rows = session.execute(
            select(InboxEvent.id, InboxEvent.entity)
            .where(InboxEvent.status == InboxStatus.RECEIVED,
                   InboxEvent.received_at <= now - older_than)
            .order_by(InboxEvent.id).limit(limit).with_for_update(skip_locked=True)
        ).all()
        published: list[int] = []
        for spec, event_ids in _task_batches(rows):
            try:
                enqueue(spec.event_task, [event_ids], spec.queue)
            except Exception as error:  # noqa: BLE001 - any publish failure: try again later.
                log.warning("broker refused the events; publishing again later",
                            extra={"events": len(rows) - len(published), "error": _short(error)})
                _commit_marks_lazily(session).execute(
                    _NOTE_REFUSAL.where(_INBOX.c.id.in_([row.id for row in rows])),
                    {"error": f"enqueue failed: {_short(error)}"})
                return PublishRound(len(rows), len(published), refused=True)
            published.extend(event_ids)
        if published:
            _commit_marks_lazily(session).execute(
                _MARK_QUEUED.where(_INBOX.c.id.in_(published)), {"queued_at": now})
        return PublishRound(len(rows), len(published), refused=False)


def _task_batches(rows: Sequence[Row[int, str]]) -> Iterator[tuple[EntitySpec, list[int]]]:
    """The rows' ids grouped by entity, in chunks of at most TASK_BATCH."""
    by_entity: dict[str, list[int]] = {}
    for event_id, entity in rows:
        by_entity.setdefault(entity, []).append(event_id)
    for entity, event_ids in by_entity.items():
        spec = BY_NAME.get(entity)
        if spec is None:  # an entity no longer registered: nothing could process it
            continue
        for start in range(0, len(event_ids), TASK_BATCH):
            yield spec, event_ids[start:start + TASK_BATCH]


def _commit_marks_lazily(session: Session) -> Connection:
    """The session's connection; on Postgres its transaction now commits without
    waiting for the WAL flush (SET LOCAL is per transaction, repeating it is harmless)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_ASYNC_COMMIT)
    return connection


def _insert_new(engine: Engine, values: dict[str, Any]) -> int | None:
    """Insert an inbox row unless its dedup key exists; the new id, or None.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on both dialects: on
    Postgres a concurrent copy waits for the first to commit, then inserts
    nothing, so the UNIQUE index alone decides.
    """
    dialect = engine.dialect
    insert = _inserts.get(dialect.name)
    if insert is None:
        insert = _inserts[dialect.name] = DriverInsert(_INBOX, _STORED_COLUMNS, "dedup_key",
                                                       "id", dialect)
    event_id = insert(engine, values)
    return None if event_id is None else int(event_id)


def stored_headers(headers: Mapping[str, str], secret_names: frozenset[str]) -> dict[str, str]:
    """Headers worth keeping: no secrets or signatures, bounded, control characters replaced."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in secret_names or len(kept) >= MAX_STORED_HEADERS:
            continue
        kept[_printable(name)[:128]] = _printable(value)[:MAX_HEADER_VALUE]
    return kept


def _printable(text: str) -> str:
    if text.isprintable():  # nearly every header: skip the walk over its characters
        return text
    return "".join(char if char.isprintable() else "\ufffd" for char in text)


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"
