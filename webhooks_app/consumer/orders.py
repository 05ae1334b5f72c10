"""``POST /consumer/orders``, ``GET /consumer/orders/<id>``, ``GET /consumer/orders``.

A create stores the order (:func:`tds.orders.accept_order`), then sends its task;
a broker that is down leaves it to the dispatcher, which sends ledger work whose
time has come. A repeated request (the same ``Idempotency-Key``, or reference, and
body) gets the first one's order, marked ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request, url_for
from marshmallow import ValidationError

from tds import orders
from tds.entities import ORDERS_QUEUE
from tds.orders.schemas import OrderFiltersSchema
from webhooks_app.consumer.answers import ApiError, answer, request_json
from webhooks_app.consumer.schemas import OrderAnswerSchema, OrderListSchema, OrderSchema
from webhooks_app.consumer.sending import send
from webhooks_app.extensions import tds_ext
from workers import names

blueprint = Blueprint("orders", __name__)
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces
# Schemas keep no state between loads and dumps: each is made once.
ORDER, ORDER_ANSWER, ORDER_LIST = OrderSchema(), OrderAnswerSchema(), OrderListSchema()
ORDER_FILTERS = OrderFiltersSchema()


@blueprint.post("/orders")
def create_order() -> Response:
    """Accept an order (202) or answer a repeated request with its order."""
    ext = tds_ext()
    key = _idempotency_key()
    document = request_json(ext.settings.webhook_max_bytes)
    with ext.database.session() as session:
        accepted = orders.accept_order(session, ext.settings, document, key)
        view = orders.order_view(accepted.order, None)
    headers = {"Location": url_for(".get_order", order_id=view["id"])}
    if accepted.ledger_id is not None:
        send(names.CREATE_ORDER, [accepted.ledger_id], ORDERS_QUEUE)
        message = "Order accepted; it is created in Zoho shortly. Poll the Location."
    else:
        headers["Idempotent-Replayed"] = "true"
        message = "This request was made before; here is its order."
    return answer(ORDER_ANSWER, {"order": view, "message": message}, 202, headers)


@blueprint.get("/orders/<int:order_id>")
def get_order(order_id: int) -> Response:
    """One order: pending, created (Zoho's id and number), rejected or failed (reason)."""
    ext = tds_ext()
    with ext.database.session() as session:
        found = orders.find_order(session, ext.settings, order_id)
        if found is None:
            raise ApiError(404, "not_found", f"There is no order {order_id}.")
        return answer(ORDER, orders.order_view(*found))


@blueprint.get("/orders")
def list_orders() -> Response:
    """Orders by id, filtered by status, created_since and reference_number; paged
    with after_id and limit."""
    ext = tds_ext()
    try:
        filters = ORDER_FILTERS.load(request.args.to_dict())
    except ValidationError as error:
        raise ApiError(400, "validation_failed", "The filters are not valid: fix the ones "
                       "named in `fields`.", fields=error.messages) from None
    with ext.database.session() as session:
        rows = orders.list_orders(session, ext.settings, filters)
        views = [orders.order_view(*row) for row in rows]
    last = views[-1]["id"] if len(views) == filters["limit"] else None
    return answer(ORDER_LIST, {"orders": views, "next_after_id": last})


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "bad_request", f"{IDEMPOTENCY_HEADER} must be 1 to 128 printable "
                       "ASCII characters without spaces (a UUID is a good choice).")
    return key
