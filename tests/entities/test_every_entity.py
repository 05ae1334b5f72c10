"""The standard tests, run for every registered entity (as meltano/sdk runs its stream
tests per stream): webhook → row, full, incremental, reconcile and delete, against the
sandbox over HTTP, through the receiver, on both dialects. An entity added by declaration
is tested by that declaration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tds import events, sync
from tds.config import Settings
from tds.db.models import InboxEvent
from tds.db.session import Database
from tds.entities import ENTITIES, Entity
from tds.mapping import parse_zoho_time
from tds.sandbox import SandboxServer
from tds.zoho import UnifiedZohoClient
from tests.fixtures.receiver import post_zoho

pytestmark = pytest.mark.parametrize("entity", ENTITIES, ids=lambda entity: entity.name)


def zoho_table(entity: Entity) -> str:
    """The sandbox table holding the entity's records (stock lives on items)."""
    return entity.path.strip("/")


def expected(sandbox: SandboxServer, entity: Entity) -> dict[str, datetime | None]:
    records = sandbox.state.store.tables[zoho_table(entity)].records
    return {record_id: parse_zoho_time(record["last_modified_time"])
            for record_id, record in records.items() if entity.accepts(record)}


def stored(database: Database, entity: Entity, live: bool = True) -> dict[str, Any]:
    table = entity.table
    query = select(table.c.zoho_id, table.c.last_modified_time)
    if live:
        query = query.where(table.c.deleted_at.is_(None))
    with database.session() as session:
        return dict(session.execute(query).all())


def send_id_only(receiver: FlaskClient, database: Database, zoho_settings: Settings,
                 zoho_client: UnifiedZohoClient, entity: Entity, record_id: str) -> None:
    """Post an id-only webhook for `record_id` and process the stored event."""
    answer = post_zoho(receiver, {entity.single_key: {entity.id_field: record_id}},
                       path=f"/api/zoho/webhooks/{entity.webhook}")
    assert answer.status_code == 202, answer.get_json()
    outcome = events.process_event(database, zoho_client, zoho_settings,
                                   answer.get_json()["event_id"])
    assert outcome.status == "completed"


def test_a_webhook_becomes_its_row(entity: Entity, receiver: FlaskClient, database: Database,
                                   zoho_settings: Settings, zoho_client: UnifiedZohoClient,
                                   sandbox: SandboxServer) -> None:
    record_id, version = next(iter(expected(sandbox, entity).items()))
    send_id_only(receiver, database, zoho_settings, zoho_client, entity, record_id)
    assert stored(database, entity) == {record_id: version}
    with database.session() as session:
        assert session.scalars(select(InboxEvent.status)).all() == ["processed"]


def test_a_full_pass_brings_exactly_zohos_records(
        entity: Entity, database: Database, zoho_settings: Settings,
        zoho_client: UnifiedZohoClient, sandbox: SandboxServer) -> None:
    org = zoho_settings.zoho_organization_id
    report = sync.sync_full(database, zoho_client, entity, org)
    assert stored(database, entity) == expected(sandbox, entity)
    assert report.written == len(expected(sandbox, entity))
    assert sync.sync_full(database, zoho_client, entity, org).written == 0


def test_an_incremental_pass_brings_the_changes(
        entity: Entity, database: Database, zoho_settings: Settings,
        zoho_client: UnifiedZohoClient, sandbox: SandboxServer) -> None:
    org = zoho_settings.zoho_organization_id
    sync.sync_incremental(database, zoho_client, entity, org)  # the first one is full
    sandbox.admin.change(zoho_table(entity), 2)
    sync.sync_incremental(database, zoho_client, entity, org)
    assert stored(database, entity) == expected(sandbox, entity)


def test_reconcile_soft_deletes_what_zoho_no_longer_has(
        entity: Entity, database: Database, zoho_settings: Settings,
        zoho_client: UnifiedZohoClient, sandbox: SandboxServer) -> None:
    org = zoho_settings.zoho_organization_id
    sync.sync_full(database, zoho_client, entity, org)
    gone = sorted(expected(sandbox, entity))[:2]
    sandbox.admin.delete(zoho_table(entity), gone)
    assert sync.reconcile(database, zoho_client, entity, org).deleted == 2
    assert stored(database, entity) == expected(sandbox, entity)
    assert set(gone) <= set(stored(database, entity, live=False))  # never hard-deleted


def test_a_webhook_for_a_record_zoho_deleted_soft_deletes_it(
        entity: Entity, receiver: FlaskClient, database: Database, zoho_settings: Settings,
        zoho_client: UnifiedZohoClient, sandbox: SandboxServer) -> None:
    sync.sync_full(database, zoho_client, entity, zoho_settings.zoho_organization_id)
    gone = sorted(expected(sandbox, entity))[0]
    sandbox.admin.delete(zoho_table(entity), [gone])
    send_id_only(receiver, database, zoho_settings, zoho_client, entity, gone)
    assert gone not in stored(database, entity)
    assert gone in stored(database, entity, live=False)
