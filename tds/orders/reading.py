"""Reading consumer orders back: one, a filtered page, and the shape the API shows.

An order's ledger row (joined by its unit key) says, while it is pending, when it
is tried next and why the last try failed; completed rows are cleaned up after
``TDS_CLEANUP_AFTER_DAYS``, so a settled order may have none. Functions take a
`Session` and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, String, cast, literal, select
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import OrderState, SalesOrder, SyncQueueItem
from tds.ledger import ORDER_KEY_PREFIX
from tds.orders.schemas import MAX_ID


def find_order(session: Session, settings: Settings,
               order_id: int) -> tuple[SalesOrder, SyncQueueItem | None] | None:
    """Order `order_id` of the configured organization and its ledger row (gone once
    cleaned up); None when there is no such order."""
    if not 0 < order_id <= MAX_ID:
        return None
    found = session.execute(_with_ledger().where(
        SalesOrder.id == order_id,
        SalesOrder.organization_id == settings.zoho_organization_id)).first()
    return None if found is None else (found[0], found[1])


def list_orders(session: Session, settings: Settings, filters: Mapping[str, Any],
                ) -> list[tuple[SalesOrder, SyncQueueItem | None]]:
    """Orders by id, filtered as :class:`~tds.orders.schemas.OrderFiltersSchema` loads:
    `status`, `created_since`, `reference_number`, `after_id`, at most `limit`."""
    query = _with_ledger().where(SalesOrder.organization_id == settings.zoho_organization_id)
    if "status" in filters:
        query = query.where(SalesOrder.state == filters["status"])
    if "created_since" in filters:
        query = query.where(SalesOrder.created_at >= filters["created_since"])
    if "reference_number" in filters:
        query = query.where(SalesOrder.reference_number == filters["reference_number"])
    if "after_id" in filters:
        query = query.where(SalesOrder.id > filters["after_id"])
    rows = session.execute(query.order_by(SalesOrder.id).limit(filters.get("limit", 50)))
    return [(order, item) for order, item in rows]


def order_view(order: SalesOrder, item: SyncQueueItem | None) -> dict[str, Any]:
    """An order as the API shows it; while pending, when it is tried next and why the
    last try failed."""
    request = order.request
    waiting = order.state == OrderState.PENDING and item is not None
    return {
        "id": order.id, "status": order.state, "reference_number": order.reference_number,
        "customer_id": order.customer_id, "line_items": request.get("line_items", []),
        "date": request.get("date"), "notes": request.get("notes"),
        "salesorder_id": order.zoho_id, "salesorder_number": order.salesorder_number,
        "zoho_status": order.status,
        "total": float(order.total) if order.total is not None else None,
        "reason": order.reason, "attempts": order.attempts,
        "created_at": order.created_at, "updated_at": order.updated_at,
        "next_attempt_at": item.next_retry_at if waiting and item else None,
        "last_error": item.error_message if waiting and item else None,
    }


def _with_ledger() -> Select[SalesOrder, SyncQueueItem]:
    unit_key = literal(ORDER_KEY_PREFIX) + cast(SalesOrder.id, String)
    return select(SalesOrder, SyncQueueItem).outerjoin(SyncQueueItem,
                                                       SyncQueueItem.unit_key == unit_key)
