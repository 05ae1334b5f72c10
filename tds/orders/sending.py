"""Creating a consumer order in Zoho, once, from a worker.

Zoho has no idempotency key and accepts duplicate references
(``zoho-books-api.md``, "Sales order create"), and a create whose answer was lost
may be stored all the same. So :func:`send_order` first lists Zoho's sales orders
with the order's own reference (the ``reference_number`` filter, the match checked
exactly on our side, with the customer) and creates only when none is there. A
refusal of the order itself (an unknown customer or item: Zoho's 4xx) makes it
``rejected`` with Zoho's message; anything else is recorded by the ledger's retry
policy (:func:`record_order_failure`): tried again, parked for the day's quota (the
order stays ``pending``), or given up (``failed``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import DocumentKind, LedgerStatus, OrderState, SalesOrder, SyncQueueItem
from tds.db.session import Database
from tds.entities import ZohoReader
from tds.ledger import ORDER_KIND, Failure, QueueService
from tds.logs import correlated
from tds.mapping import parse_zoho_time
from tds.processes import this_process
from tds.zoho.errors import WRONG_URL_CODE, ZohoAPIError, ZohoNotFoundError, ZohoValidationError

log = logging.getLogger("tds.orders")
SALESORDERS = "/salesorders"


class ZohoWriter(ZohoReader, Protocol):
    """What creating an order needs from :class:`tds.zoho.UnifiedZohoClient`."""

    def post(self, path: str, json: Any = None,
             params: Any = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class OrderClaim:
    """A claimed order: its id, reference, customer, the body for Zoho, its log id."""

    order_id: int
    reference: str
    customer_id: str
    body: dict[str, Any]
    correlation_id: str | None


def send_order(database: Database, client: ZohoWriter, settings: Settings, item_id: int,
               claimant: str | None = None) -> str:
    """Create the order of ledger row `item_id` in Zoho unless Zoho has it already; the
    order's state after it, or ``skipped`` when the row could not be claimed (done,
    dead, or another worker holds it). Raises what stopped it, for
    :func:`record_order_failure`."""
    with database.session() as session:
        claim = _claim(session, settings, item_id, claimant or this_process())
    if claim is None:
        return "skipped"
    with correlated(claim.correlation_id):
        try:
            found = _look_up(client, claim)
            salesorder, kind = (found, DocumentKind.SUMMARY) if found is not None else (
                _create(client, claim), DocumentKind.FULL)
        except ZohoAPIError as error:
            if not _refuses_the_order(error):
                raise
            with database.session() as session:
                _finish(session, settings, item_id, claim.order_id, state=OrderState.REJECTED,
                        reason=error.message)
            log.info("order rejected by Zoho", extra={"order_id": claim.order_id,
                                                      "zoho_message": error.message})
            return OrderState.REJECTED
        with database.session() as session:
            _finish(session, settings, item_id, claim.order_id, state=OrderState.CREATED,
                    salesorder=salesorder, kind=kind)
        log.info("order created in Zoho", extra={
            "order_id": claim.order_id, "salesorder_id": salesorder.get("salesorder_id"),
            "found_by_reference": found is not None})
        return OrderState.CREATED


def record_order_failure(session: Session, settings: Settings, item_id: int,
                         error: BaseException) -> Failure | None:
    """Record a failed try of ledger row `item_id` by the retry policy; once the row is
    dead its order is ``failed`` with the error (requeuing the row makes it pending
    again). None when the row was completed meanwhile."""
    failure = QueueService.from_settings(session, settings).record_failure(item_id, error)
    if failure is not None and failure.status == LedgerStatus.DEAD:
        order = _order_of(session, item_id)
        if order is not None:
            order.state, order.reason = OrderState.FAILED, failure.message
    if failure is not None:
        log.warning("order %s", failure.status, extra={
            "ledger_id": item_id, "error": failure.message[:500], "retry_in": failure.retry_in})
    return failure


def _claim(session: Session, settings: Settings, item_id: int,
           claimant: str) -> OrderClaim | None:
    queue = QueueService.from_settings(session, settings)
    if not queue.mark_processing(item_id, claimant):
        return None
    item = session.get(SyncQueueItem, item_id, populate_existing=True)
    order = _order_of(session, item_id)
    if item is None or order is None:
        queue.mark_failed(item_id, "The ledger row names no order.", final=True)
        return None
    if order.state == OrderState.CREATED:  # Zoho has it: nothing is left to do
        queue.mark_completed(item_id)
        return None
    order.attempts = item.attempts
    if order.state != OrderState.PENDING:  # an operator requeued a failed or rejected order
        order.state, order.reason = OrderState.PENDING, None
    assert order.reference_number is not None  # both set when the order was accepted
    assert order.customer_id is not None
    return OrderClaim(order.id, order.reference_number, order.customer_id,
                      zoho_body(order), item.correlation_id)


def zoho_body(order: SalesOrder) -> dict[str, Any]:
    """The create body Zoho documents (``sales-order.yml``): the customer, the lines,
    our reference always, and the date and notes when given."""
    request = order.request
    lines = [{key: line[key] for key in ("item_id", "quantity", "rate", "description")
              if key in line} for line in request["line_items"]]
    body: dict[str, Any] = {"customer_id": order.customer_id, "line_items": lines,
                            "reference_number": order.reference_number}
    body.update({key: request[key] for key in ("date", "notes") if request.get(key)})
    return body


def _look_up(client: ZohoWriter, claim: OrderClaim) -> dict[str, Any] | None:
    """The sales order Zoho holds under our reference for our customer, if any (the
    filter's match is checked here: the sheet says to match exactly on our side)."""
    for page in client.paginated_fetch(SALESORDERS, "salesorders",
                                       {"reference_number": claim.reference}):
        for row in page:
            if (row.get("reference_number") == claim.reference
                    and str(row.get("customer_id")) == claim.customer_id):
                return dict(row)
    return None


def _create(client: ZohoWriter, claim: OrderClaim) -> dict[str, Any]:
    answer = client.post(SALESORDERS, json=claim.body)
    salesorder = answer.get("salesorder")
    if not isinstance(salesorder, dict) or not salesorder.get("salesorder_id"):
        raise ZohoValidationError("Zoho's answer to the sales order create has no "
                                  "salesorder object; the next try looks it up by reference.")
    return salesorder


def _refuses_the_order(error: ZohoAPIError) -> bool:
    """Whether Zoho refused the order itself (a field it does not accept), not the call:
    a 4xx validation or "does not exist" answer; a wrong URL is our configuration."""
    return isinstance(error, ZohoValidationError | ZohoNotFoundError) \
        and error.http_status is not None and error.code != WRONG_URL_CODE


def _finish(session: Session, settings: Settings, item_id: int, order_id: int, *,
            state: OrderState, reason: str | None = None,
            salesorder: dict[str, Any] | None = None,
            kind: DocumentKind = DocumentKind.FULL) -> None:
    order = session.get(SalesOrder, order_id, with_for_update=True, populate_existing=True)
    assert order is not None
    order.state, order.reason = state, reason
    if salesorder is not None:
        order.zoho_id = str(salesorder["salesorder_id"])
        order.salesorder_number = salesorder.get("salesorder_number")
        order.status = salesorder.get("status")
        order.total = _amount(salesorder.get("total"))
        order.last_modified_time = parse_zoho_time(salesorder.get("last_modified_time"))
        order.document, order.document_kind = salesorder, kind
        order.synced_at = datetime.now(UTC)
    QueueService.from_settings(session, settings).mark_completed(item_id)


def _order_of(session: Session, item_id: int) -> SalesOrder | None:
    payload = session.scalar(select(SyncQueueItem.payload).where(
        SyncQueueItem.id == item_id, SyncQueueItem.kind == ORDER_KIND))
    if not payload or "order_id" not in payload:
        return None
    return session.get(SalesOrder, int(payload["order_id"]), with_for_update=True)


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None
