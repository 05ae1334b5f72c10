"""What the receiver's views share: settings, database, publisher, broker and (for the
consumer API's credentials check and quota) a Zoho client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask, current_app
from kombu import Connection

from tds.config import Settings
from tds.db.session import Database
from tds.inbox import Enqueue
from tds.zoho import UnifiedZohoClient


@dataclass
class TDSExtension:
    """Per-app state, reachable in a view as ``tds_ext()``."""

    settings: Settings
    database: Database
    publisher: Enqueue
    _broker: Connection | None = field(default=None, repr=False)
    _zoho: UnifiedZohoClient | None = field(default=None, repr=False)

    def init_app(self, app: Flask) -> None:
        app.extensions["tds"] = self

    def broker_connection(self) -> Any:
        """A kombu connection to the broker, made on first use (for readiness checks)."""
        if self._broker is None:
            self._broker = Connection(
                self.settings.broker_url,
                transport_options=self.settings.broker_transport_options(),
                connect_timeout=2,
            )
        return self._broker


    def zoho_client(self) -> UnifiedZohoClient:
        """The process's Zoho client, made on first use (it calls Zoho only when asked)."""
        if self._zoho is None:  # a benign race: a spare client is dropped
            self._zoho = UnifiedZohoClient(self.settings, self.database)
        return self._zoho


def tds_ext() -> TDSExtension:
    return cast(TDSExtension, current_app.extensions["tds"])
