"""Sales orders placed through the consumer API, created in Zoho exactly once.

:mod:`tds.orders.intake` takes an order in (validated, stored ``pending`` with a
ledger row, a repeated request answered with the first one's order);
:mod:`tds.orders.reading` reads orders back; :mod:`tds.orders.sending` creates
one in Zoho from a worker, looking its reference up first, since Zoho has no
idempotency key and accepts duplicate references (``zoho-books-api.md``);
:mod:`tds.orders.schemas` says what a valid order is.
"""

from tds.orders.intake import Accepted, IdempotencyConflictError, OrderInvalidError, accept_order
from tds.orders.reading import find_order, list_orders, order_view
from tds.orders.sending import record_order_failure, send_order

__all__ = ["Accepted", "IdempotencyConflictError", "OrderInvalidError", "accept_order",
           "find_order", "list_orders", "order_view", "record_order_failure", "send_order"]
