"""The sync ledger, ``tds_sync_queue``: what work there is, how it went, when to retry.

:class:`QueueService` is its public face (the seed's eight operations and the
dispatcher's, which re-sends events, sync passes and orders); :func:`event_ledger`
gives event processing the claim, complete, fail and due steps for the session's
database.
"""

from tds.ledger.event_ledger import Claim, EventLedger, event_ledger
from tds.ledger.service import (
    HEALTH_SQL,
    ORDER_KEY_PREFIX,
    ORDER_KIND,
    DueItem,
    Failure,
    QueueService,
    event_unit_key,
    order_unit_key,
)

__all__ = ["HEALTH_SQL", "ORDER_KEY_PREFIX", "ORDER_KIND", "Claim", "DueItem", "EventLedger",
           "Failure", "QueueService", "event_ledger", "event_unit_key", "order_unit_key"]
