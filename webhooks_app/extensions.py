"""What the receiver's views share: settings, database, the inbox service, the bounded
store, the background publisher, the readiness probes and (for the consumer API's
credentials check and quota) a Zoho client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from flask import Flask, current_app
from kombu import Connection

from tds.config import Settings
from tds.db.session import Database
from tds.inbox import Enqueue, ProcessorService
from tds.zoho import UnifiedZohoClient
from webhooks_app.handoff import EventPublisher
from webhooks_app.probes import Probe
from webhooks_app.storage import BoundedStore

PROBE_SECONDS = 2.0  # how long /readyz waits for each dependency
# Store threads per receiver process: more than its request threads, so a slow
# database refuses only once it holds them all.
STORE_THREADS = 8


@dataclass
class TDSExtension:
    """Per-app state, reachable in a view as ``tds_ext()``."""

    settings: Settings
    database: Database
    publisher: Enqueue
    service: ProcessorService = field(init=False)
    store: BoundedStore = field(init=False)
    events: EventPublisher = field(init=False)
    probes: dict[str, Probe] = field(init=False)
    _zoho: UnifiedZohoClient | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.service = ProcessorService(self.settings)
        self.store = BoundedStore(STORE_THREADS, self.settings.db_statement_timeout_seconds)
        self.events = EventPublisher(self.publisher, self._mark_queued)
        self.probes = {"database": Probe("database", self.database.ping, PROBE_SECONDS),
                       "broker": Probe("broker", self._ping_broker, PROBE_SECONDS)}

    def _mark_queued(self, event_ids: list[int]) -> None:
        self.service.mark_queued(self.database.engine, event_ids)

    def init_app(self, app: Flask) -> None:
        app.extensions["tds"] = self

    def _ping_broker(self) -> None:
        """One round trip to the broker (Redis: PING), on a connection of its own."""
        options = {**self.settings.broker_transport_options(),
                   "socket_timeout": PROBE_SECONDS, "socket_connect_timeout": PROBE_SECONDS}
        with Connection(self.settings.broker_url, transport_options=options,
                        connect_timeout=PROBE_SECONDS) as connection:
            connection.ensure_connection(max_retries=0, timeout=PROBE_SECONDS)
            client = getattr(connection.default_channel, "client", None)
            if client is not None:
                client.ping()


    def zoho_client(self) -> UnifiedZohoClient:
        """The process's Zoho client, made on first use (it calls Zoho only when asked)."""
        if self._zoho is None:  # a benign race: a spare client is dropped
            self._zoho = UnifiedZohoClient(self.settings, self.database)
        return self._zoho


def tds_ext() -> TDSExtension:
    return cast(TDSExtension, current_app.extensions["tds"])
