"""The webhook inbox: store each verified event durably, once, and hand it on.

:class:`ProcessorService` does the receiver's work without knowing HTTP,
Flask or Celery, in a straight line: the view names the entity
(:func:`entity_for`), builds an :class:`IncomingWebhook`, and
:meth:`ProcessorService.store` parses the body (decoded once), verifies the
signature (:class:`tds.signatures.SignaturePolicy`), validates the record
(:func:`tds.webhook_payloads.validate_record`) and inserts the event,
committed before it returns. The receiver then hands it to a publisher off
the request thread (``webhooks_app.handoff``), which marks what it published
(:meth:`ProcessorService.mark_queued`); an event a broker never took stays
``received`` and :meth:`ProcessorService.sweep` publishes it later.

Contract with the workers: the task ``entity.event_task`` gets the inbox
event id as its only argument; the event's ``payload`` is the entity
record as Zoho sent it (unwrapped). The worker marks the event processed,
failed or dead. A task may run for an event still marked ``received`` (the
status update after a successful publish can fail) or twice (the sweeper
and a late update race): tasks are idempotent.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Engine, Table, bindparam, select, update
from sqlalchemy.engine import Dialect

from tds.config import Settings
from tds.db.driver_insert import DriverInsert
from tds.db.models import DELETED_ACTION, ONCE_PREFIX, InboxEvent, InboxStatus
from tds.db.session import NO_FLUSH_WAIT, Database, commit_without_flush_wait
from tds.entities import BY_NAME, BY_WEBHOOK, Entity
from tds.webhook_payloads import (
    WebhookError,
    WebhookRecord,
    organization_id,
    parse_body,
    validate_record,
)

log = logging.getLogger("tds.inbox")

# Never stored, besides the signature policy's own headers: anything that authenticates.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
MAX_HEADER_VALUE = 1024
MAX_STORED_HEADERS = 64
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
SWEEP_BATCH = 500
_INBOX: Table = InboxEvent.__table__  # type: ignore[assignment]
_STORED_COLUMNS = ("entity", "zoho_id", "organization_id", "dedup_key", "signature_scheme",
                   "method", "action", "content_type", "raw_body", "headers", "payload",
                   "last_modified_time", "correlation_id", "status", "attempts", "error",
                   "received_at")
ACTION = re.compile(r"[a-z0-9_]{1,32}")
DELETE_WORDS = frozenset({"delete", "deleted", "deletion", "remove", "removed"})
# Only a still-received event changes: a fast worker may have processed it already.
_MARK_QUEUED = update(_INBOX).where(
    _INBOX.c.id.in_(bindparam("ids", expanding=True)),
    _INBOX.c.status == InboxStatus.RECEIVED.value,
).values(status=InboxStatus.QUEUED.value, queued_at=bindparam("queued_at"), error=None)


class Enqueue(Protocol):
    """Publishes one task; raises when the broker does not take it."""

    def __call__(self, task_name: str, args: list[Any], queue: str) -> None: ...


class UnknownEntityError(WebhookError):
    """No webhook route exists for this entity (404)."""


@dataclass(frozen=True)
class IncomingWebhook:
    """A webhook request as plain data: what the view read from HTTP."""

    entity: Entity
    body: bytes
    content_type: str | None
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    correlation_id: str = ""
    method: str = "POST"


@dataclass(frozen=True)
class Receipt:
    """What happened to a webhook: stored anew, or a duplicate of `event_id`; `ignored`
    names why a stored event will not be applied (another organization's)."""

    event_id: int
    entity: Entity
    zoho_id: str
    scheme: str
    duplicate: bool
    ignored: str | None = None


def sane_correlation_id(*candidates: str | None) -> str | None:
    """The first candidate that is a short token safe to log and echo, if any."""
    for candidate in candidates:
        if candidate and SANE_ID.fullmatch(candidate):
            return candidate
    return None


def entity_for(segment: str) -> Entity:
    """The entity behind a webhook path segment, or :class:`UnknownEntityError`."""
    entity = BY_WEBHOOK.get(segment)
    if entity is None:
        raise UnknownEntityError(f"No webhook exists for {segment[:64]!r}; use one of "
                                 f"{', '.join(sorted(BY_WEBHOOK))}.")
    return entity


class ProcessorService:
    """Stores and publishes webhook events (see the module docstring)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.policy = settings.signature_policy()
        self.clock = clock

    def store(self, engine: Engine, webhook: IncomingWebhook) -> Receipt:
        """Parse, verify, validate and insert the event, committed before this returns.

        The one exception to "take a session, do not commit": a webhook is a
        single-row insert on the receiver's hot path, run on the driver in a
        transaction of its own (see :mod:`tds.db.driver_insert`).

        Raises a :class:`WebhookError` subclass or :class:`SignatureError` for a
        webhook to refuse. A duplicate (same ``webhook-id``, or the same entity and
        canonical record) returns the existing event's id: the UNIQUE dedup key
        decides, so concurrent copies store one row.
        """
        entity = webhook.entity
        parsed = parse_body(webhook.content_type, webhook.body, webhook.query)
        scheme = self.policy.verify(webhook.headers, webhook.query, parsed.form_pairs,
                                    webhook.body, parsed.signed_body, now=self.clock())
        record = validate_record(entity, parsed.document)
        action = self.action(webhook)
        organization = record.organization_id or self._query_organization(webhook)
        ignored = self._foreign(organization)
        dedup_key = self.dedup_key(webhook, record, action)
        values = {
            "entity": entity.name, "zoho_id": record.zoho_id, "organization_id": organization,
            "dedup_key": dedup_key, "signature_scheme": scheme, "method": webhook.method,
            "action": action, "content_type": (webhook.content_type or "")[:128],
            "raw_body": parsed.text,
            "headers": stored_headers(webhook.headers,
                                      SECRET_HEADERS | self.policy.secret_headers()),
            "payload": record.record, "last_modified_time": record.last_modified_time,
            "correlation_id": webhook.correlation_id[:64],
            "status": (InboxStatus.IGNORED if ignored else InboxStatus.RECEIVED).value,
            "attempts": 0, "error": ignored, "received_at": self._now(),
        }
        event_id = _inbox_insert(engine.dialect)(engine, values)
        if event_id is not None:
            return Receipt(int(event_id), entity, record.zoho_id, scheme, duplicate=False,
                           ignored=ignored)
        # The dedup key exists: a replay, or a concurrent copy won.
        with engine.connect() as connection:
            event_id = connection.scalar(select(_INBOX.c.id).where(
                _INBOX.c.dedup_key == dedup_key))
        if event_id is None:
            raise RuntimeError(f"inbox event {dedup_key} conflicted but cannot be found")
        return Receipt(int(event_id), entity, record.zoho_id, scheme, duplicate=True,
                       ignored=ignored)

    def action(self, webhook: IncomingWebhook) -> str | None:
        """What the sender says happened: the configured query parameter or header
        (Zoho's body may not say), ``deleted`` for method DELETE; words for a deletion
        all read ``deleted``."""
        named = next((value for key, value in webhook.query
                      if key == self.settings.webhook_action_param), None)
        if named is None and self.settings.webhook_action_header:
            named = webhook.headers.get(self.settings.webhook_action_header)
        if not named:
            return DELETED_ACTION if webhook.method == "DELETE" else None
        word = re.sub(r"[^a-z0-9_]+", "_", named.strip().lower())[:32] or "unnamed"
        return DELETED_ACTION if word in DELETE_WORDS else word

    @staticmethod
    def dedup_key(webhook: IncomingWebhook, record: WebhookRecord, action: str | None) -> str:
        """``webhook-id`` when sent; else sha256 of the entity, method, action and
        canonical record. A record without a version cannot tell one change from the
        next (an id-only body, fields that flip back): its key (``once:``) dedups only
        copies not yet claimed by a worker."""
        message_id = webhook.headers.get("webhook-id")
        if message_id:
            if SANE_ID.fullmatch(message_id):
                return f"wh:{message_id}"
            return "wh-sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
        digest = record.dedup_digest(webhook.entity.name, webhook.method, action or "")
        return ("sha256:" if record.last_modified_time is not None else ONCE_PREFIX) + digest

    def _foreign(self, organization: str | None) -> str | None:
        """Why an event of `organization` is not applied here, if it is not."""
        served = self.settings.zoho_organization_id
        if organization is None or not served or organization == served:
            return None
        return (f"organization {organization} is not the one TDS serves ({served}); "
                "stored, never applied")

    @staticmethod
    def _query_organization(webhook: IncomingWebhook) -> str | None:
        for key, value in webhook.query:
            if key == "organization_id":
                return organization_id(value)
        return None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- publish --------------------------------------------------------
    def mark_queued(self, engine: Engine, event_ids: Sequence[int]) -> None:
        """Mark published events ``queued`` in one statement, in a transaction of its
        own that commits without waiting for the WAL flush (the marks are safe to
        lose: a lost one only makes the sweeper publish the event again). An event a
        fast worker already processed keeps its status."""
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(NO_FLUSH_WAIT)
            connection.execute(_MARK_QUEUED, {"ids": list(event_ids), "queued_at": self._now()})

    def sweep(self, database: Database, enqueue: Enqueue, now: datetime | None = None) -> int:
        """Publish every event left ``received`` longer than the grace period (a broker
        that was down, a receiver that died first), a batch per transaction, until none
        is left or the broker refuses; how many were published.

        On Postgres the rows are locked with SKIP LOCKED so two sweepers never take
        the same event."""
        cutoff = (now or self._now()) - timedelta(seconds=self.settings.sweeper_grace_seconds)
        published = 0
        while True:
            with database.session() as session:
                rows = session.execute(
                    select(InboxEvent.id, InboxEvent.entity)
                    .where(InboxEvent.status == InboxStatus.RECEIVED,
                           InboxEvent.received_at < cutoff)
                    .order_by(InboxEvent.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True)
                ).all()
                batch = [(row.id, BY_NAME[row.entity]) for row in rows if row.entity in BY_NAME]
                if not batch:
                    break
                try:
                    publish_all(enqueue, [(entity.event_task, [event_id], entity.queue)
                                          for event_id, entity in batch])
                except Exception as error:  # noqa: BLE001 - the next sweep tries again
                    log.warning("broker refused the sweep", extra={"error": _short(error)})
                    break
                commit_without_flush_wait(session).execute(
                    _MARK_QUEUED, {"ids": [event_id for event_id, _ in batch],
                                   "queued_at": self._now()})
            published += len(batch)
        if published:
            log.info("inbox swept", extra={"published": published})
        return published


def publish_all(enqueue: Enqueue, messages: Sequence[tuple[str, list[Any], str]]) -> None:
    """Publish `messages` at once when the publisher can (pipelined), else one by one."""
    publish_many = getattr(enqueue, "publish_many", None)
    if publish_many is not None:
        publish_many(messages)
        return
    for message in messages:
        enqueue(*message)


@cache
def _inbox_insert(dialect: Dialect) -> DriverInsert:
    """``INSERT ... ON CONFLICT (dedup_key) DO NOTHING RETURNING id`` for `dialect`, once.

    On Postgres a concurrent copy waits for the first to commit, then inserts
    nothing, so the UNIQUE index alone decides."""
    return DriverInsert(_INBOX, _STORED_COLUMNS, "dedup_key", "id", dialect)


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
