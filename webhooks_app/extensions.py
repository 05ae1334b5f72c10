"""What the receiver's views share: settings, database, publisher and broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask, current_app
from kombu import Connection

from tds.config import Settings
from tds.db.session import Database
from tds.inbox import Enqueue


@dataclass
class TDSExtension:
    """Per-app state, reachable in a view as ``tds_ext()``."""

    settings: Settings
    database: Database
    publisher: Enqueue
    _broker: Connection | None = field(default=None, repr=False)

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


def tds_ext() -> TDSExtension:
    return cast(TDSExtension, current_app.extensions["tds"])
