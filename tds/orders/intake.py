"""Taking a consumer order in.

:func:`accept_order` validates a body, stores the order ``pending`` with its
ledger row (kind ``order``) in the caller's unit of work, and answers a repeated
request with the first one's order: the same ``Idempotency-Key`` (or the same
``reference_number``) and the same body. The same key or reference with another
body, or a reference an order made under another key holds, is an
:class:`IdempotencyConflictError`.
Concurrent duplicates meet at the table's unique constraints, so exactly one is
stored. Functions take a `Session` and never commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import Customer, LedgerStatus, OrderState, Product, SalesOrder, SyncQueueItem
from tds.db.write import insert_for
from tds.errors import TDSError
from tds.ledger import ORDER_KIND, QueueService, order_unit_key
from tds.logs import correlation_id, new_correlation_id
from tds.orders.schemas import OWN_REFERENCE_PREFIX, OrderRequestSchema

ORDERS_ENTITY = "orders"  # the ledger's entity column for orders
ORDER_REQUEST = OrderRequestSchema()  # schemas keep no state between loads: made once
Messages = dict[str, Any]


class OrderInvalidError(TDSError):
    """The order is not valid; `messages` names each field's problem (HTTP 400)."""

    def __init__(self, messages: Messages) -> None:
        super().__init__("The order is not valid; see the messages per field.")
        self.messages = messages


class IdempotencyConflictError(TDSError):
    """A key or reference already stands for another order (HTTP 409)."""


@dataclass(frozen=True)
class Accepted:
    """The stored order, and its ledger row when this request stored it (None: an
    earlier request with the same key or reference did)."""

    order: SalesOrder
    ledger_id: int | None


def accept_order(session: Session, settings: Settings, body: Any,
                 idempotency_key: str | None) -> Accepted:
    """Store the order `body` asks for (pending, with a ledger row due after the grace
    period, for the dispatcher should the caller's publish be lost), or find the one an
    earlier identical request stored. Raises :class:`OrderInvalidError` or
    :class:`IdempotencyConflictError`."""
    try:
        data = ORDER_REQUEST.load(body)
    except ValidationError as error:
        raise OrderInvalidError(_messages(error)) from None
    fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    reference = data.get("reference_number")
    organization_id = settings.zoho_organization_id
    earlier = _earlier(session, organization_id, idempotency_key, reference)
    if earlier is not None:
        return _replay(earlier, fingerprint)
    resolved = _resolve(session, organization_id, data)
    # The order comes back whole from RETURNING: no second round trip to load it.
    order = session.scalar(insert_for(session)(SalesOrder).values(
        organization_id=organization_id, idempotency_key=idempotency_key,
        reference_number=reference, customer_id=resolved["customer_id"], request=resolved,
        request_hash=fingerprint, state=OrderState.PENDING, document={}, attempts=0,
    ).on_conflict_do_nothing().returning(SalesOrder))
    if order is None:  # a concurrent request stored its order first
        earlier = _earlier(session, organization_id, idempotency_key, reference)
        if earlier is None:
            raise IdempotencyConflictError("Another request with this Idempotency-Key or "
                                           "reference_number was being stored; send it again.")
        return _replay(earlier, fingerprint)
    if reference is None:
        order.reference_number = f"{OWN_REFERENCE_PREFIX}{order.id}"
    queue = QueueService.from_settings(session, settings)
    item = SyncQueueItem(
        unit_key=order_unit_key(order.id), kind=ORDER_KIND, entity=ORDERS_ENTITY,
        organization_id=organization_id, payload={"order_id": order.id},
        correlation_id=correlation_id.get() or new_correlation_id(),
        status=LedgerStatus.PENDING, attempts=0, max_attempts=queue.max_attempts,
        next_retry_at=datetime.now(UTC) + queue.grace)
    session.add(item)
    session.flush()
    return Accepted(order, item.id)


def _earlier(session: Session, organization_id: str, key: str | None,
             reference: str | None) -> SalesOrder | None:
    """The order an earlier request stored under `key`, else under `reference`; a
    reference held by an order made under another key is a conflict."""
    mine = SalesOrder.organization_id == organization_id
    if key is not None and (found := session.scalar(
            select(SalesOrder).where(mine, SalesOrder.idempotency_key == key))) is not None:
        return found
    if reference is None:
        return None
    found = session.scalar(select(SalesOrder).where(mine,
                                                    SalesOrder.reference_number == reference))
    if found is not None and key is not None and found.idempotency_key not in (None, key):
        raise IdempotencyConflictError(
            f"reference_number {reference!r} belongs to order {found.id}, made under another "
            "Idempotency-Key; references are how TDS finds an order in Zoho, so each order "
            "needs its own.")
    return found


def _replay(order: SalesOrder, fingerprint: str) -> Accepted:
    if order.request_hash != fingerprint:
        raise IdempotencyConflictError(
            f"This Idempotency-Key (or reference_number) stands for order {order.id} with "
            "a different body; send a new key for a new order, or the same body to get "
            "that order back.")
    return Accepted(order, None)


def _resolve(session: Session, organization_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with Zoho's ids beside our local ones; an unknown local id is a field error."""
    problems: Messages = {}
    resolved = dict(data)
    if "local_customer_id" in data:
        found = _zoho_id(session, Customer, organization_id, data["local_customer_id"])
        if found is None:
            problems["local_customer_id"] = [
                f"No customer has local id {data['local_customer_id']}; send customer_id "
                "(Zoho's), or sync customers first."]
        resolved["customer_id"] = found
    lines = []
    for index, line in enumerate(data["line_items"]):
        line = dict(line)
        if "local_product_id" in line:
            line["item_id"] = _zoho_id(session, Product, organization_id,
                                       line["local_product_id"])
            if line["item_id"] is None:
                problems.setdefault("line_items", {})[index] = {"local_product_id": [
                    f"No product has local id {line['local_product_id']}; send item_id "
                    "(Zoho's), or sync products first."]}
        lines.append(line)
    if problems:
        raise OrderInvalidError(problems)
    resolved["line_items"] = lines
    return resolved


def _zoho_id(session: Session, model: type[Customer] | type[Product], organization_id: str,
             local_id: int) -> str | None:
    return session.scalar(select(model.zoho_id).where(
        model.id == local_id, model.organization_id == organization_id,
        model.deleted_at.is_(None)))


def _messages(error: ValidationError) -> Messages:
    messages = error.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}
