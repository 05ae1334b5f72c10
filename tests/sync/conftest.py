"""Fixtures for the sync tests: a scripted Zoho, a sandbox-backed client, inbox rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tds.config import Settings
from tds.db.models import InboxEvent, InboxStatus
from tds.db.session import Database
from tds.sandbox import SandboxServer
from tds.zoho import UnifiedZohoClient, ZohoNotFoundError
from tests.sandbox.conftest import sandbox, sandbox_factory  # noqa: F401
from tests.zoho.conftest import sandbox_settings

ORG = "10234695"


class FakeZoho:
    """A scripted Zoho: records by path, every call counted."""

    def __init__(self, records: Mapping[str, list[dict[str, Any]]] | None = None) -> None:
        self.records = {path: list(rows) for path, rows in (records or {}).items()}
        self.calls: list[str] = []

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append(path)
        base, _, record_id = path.rpartition("/")
        for row in self.records.get(base, []):
            if record_id in {str(v) for k, v in row.items() if k.endswith("_id")}:
                key = {"/items": "item", "/pricebooks": "pricebook", "/invoices": "invoice",
                       "/contacts": "contact"}[base]
                return {"code": 0, key: row}
        raise ZohoNotFoundError(f"{path} not found", http_status=404)

    def paginated_fetch(self, path: str, list_key: str, params: Mapping[str, Any] | None = None,
                        per_page: int = 200) -> Iterator[list[dict[str, Any]]]:
        self.calls.append(f"list {path}")
        rows = self.records.get(path, [])
        for start in range(0, max(len(rows), 1), per_page):
            yield rows[start : start + per_page]


@pytest.fixture
def zoho_settings(settings: Settings, sandbox: SandboxServer) -> Settings:  # noqa: F811
    return sandbox_settings(settings, sandbox)


@pytest.fixture
def client(zoho_settings: Settings, database: Database) -> Iterator[UnifiedZohoClient]:
    zoho = UnifiedZohoClient(zoho_settings, database)
    yield zoho
    zoho.close()


def add_event(database: Database, entity: str, zoho_id: str, payload: dict[str, Any],
              status: str = InboxStatus.QUEUED) -> int:
    """An inbox row as the receiver stores it."""
    with database.session() as session:
        event = InboxEvent(entity=entity, zoho_id=zoho_id, organization_id=ORG,
                           dedup_key=uuid.uuid4().hex, signature_scheme="zoho",
                           content_type="application/json", raw_body="{}", headers={},
                           payload=payload, last_modified_time=None,
                           correlation_id=uuid.uuid4().hex, status=status)
        session.add(event)
        session.flush()
        return event.id
