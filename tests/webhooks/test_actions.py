"""Deletes, actions, bodies without a version, other organizations: what the receiver
stores for each, on SQLite and Postgres."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from tds import events
from tds.config import Settings
from tds.db.models import InboxStatus
from tds.db.session import Database
from tests.fixtures.receiver import PRODUCTS, item, stored_events, zoho_headers
from tests.fixtures.zoho import ORG, FakeZoho
from webhooks_app import create_app

DELETED_ITEM = {"item": {"item_id": "4600000001000000400"}}


def send(receiver: FlaskClient, document: Any, method: str = "POST",
         query: list[tuple[str, str]] | None = None) -> Any:
    """A signed delivery: Zoho signs the query pairs with the body."""
    body = json.dumps(document).encode() if document is not None else b""
    pairs = query or []
    path = PRODUCTS + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
    return receiver.open(path, method=method, data=body, headers=zoho_headers(body, pairs=pairs))


def test_a_signed_delete_is_accepted_as_a_deleted_action(receiver: FlaskClient,
                                                         database: Database) -> None:
    answer = send(receiver, DELETED_ITEM, method="DELETE")
    assert answer.status_code == 202, answer.get_json()
    [event] = stored_events(database)
    assert (event.method, event.action, event.zoho_id) == ("DELETE", "deleted",
                                                           "4600000001000000400")


def test_a_delete_may_carry_only_the_id_in_its_query(receiver: FlaskClient,
                                                     database: Database) -> None:
    answer = send(receiver, None, method="DELETE", query=[("item_id", "77")])
    assert answer.status_code == 202, answer.get_json()
    [event] = stored_events(database)
    assert (event.zoho_id, event.action) == ("77", "deleted")


def test_an_action_parameter_names_the_action(receiver: FlaskClient,
                                              database: Database) -> None:
    assert send(receiver, item(item_id="1"), query=[("event", "Deleted")]).status_code == 202
    assert send(receiver, item(item_id="2"), query=[("event", "edited")]).status_code == 202
    assert [event.action for event in stored_events(database)] == ["deleted", "edited"]


def test_the_same_body_under_a_deleted_rule_is_another_event(receiver: FlaskClient,
                                                             database: Database) -> None:
    assert send(receiver, {"item": item()}, query=[("event", "edited")]).status_code == 202
    assert send(receiver, {"item": item()}, query=[("event", "edited")]).status_code == 200
    assert send(receiver, {"item": item()}, query=[("event", "deleted")]).status_code == 202
    assert [event.action for event in stored_events(database)] == ["edited", "deleted"]


def test_a_body_without_a_version_dedups_only_until_a_worker_claims_it(
        receiver: FlaskClient, database: Database, settings: Settings) -> None:
    body = {"item_id": "4600000001000000126"}
    first = send(receiver, body)
    assert first.status_code == 202
    assert send(receiver, body).get_json()["duplicate"] is True  # still waiting: one event
    zoho = FakeZoho({"/items": [item(item_id="4600000001000000126")]})
    outcome = events.process_event(database, zoho, settings.with_overrides(
        zoho_organization_id=ORG), first.get_json()["event_id"])
    assert outcome.status == "completed"
    again = send(receiver, body)  # the item was edited in Zoho since: a new change
    assert again.status_code == 202, again.get_json()
    assert again.get_json()["event_id"] != first.get_json()["event_id"]
    assert [event.dedup_key.split(":")[0] for event in stored_events(database)] == [
        "claimed", "once"]


def test_a_body_with_a_version_dedups_for_good(receiver: FlaskClient, database: Database,
                                               settings: Settings) -> None:
    first = send(receiver, {"item": item()})
    events.process_event(database, FakeZoho(), settings, first.get_json()["event_id"])
    assert send(receiver, {"item": item()}).get_json()["duplicate"] is True


def test_another_organizations_event_is_stored_and_ignored(settings: Settings,
                                                           database: Database) -> None:
    published: list[Any] = []
    receiver = create_app(settings.with_overrides(zoho_organization_id=ORG), database,
                          lambda *message: published.append(message)).test_client()
    contact = {"contact": {"contact_id": "9", "contact_name": "Other Co",
                           "organization_id": "20099999"}}
    body = json.dumps(contact).encode()
    answer = receiver.post("/api/zoho/webhooks/customers", data=body,
                           headers=zoho_headers(body))
    assert answer.status_code == 202
    assert answer.get_json()["ignored"] is True
    assert "20099999" in answer.get_json()["message"]
    [event] = stored_events(database)
    assert event.status == InboxStatus.IGNORED
    assert event.error is not None
    assert "20099999" in event.error
    assert published == []  # never handed to a worker
    query_org = receiver.post(PRODUCTS + "?organization_id=20099999", data=b'{"item_id":"5"}',
                              headers=zoho_headers(b'{"item_id":"5"}',
                                                   pairs=[("organization_id", "20099999")]))
    assert query_org.get_json()["ignored"] is True


def test_this_organizations_event_is_applied(settings: Settings, database: Database) -> None:
    published: list[Any] = []
    receiver = create_app(settings.with_overrides(zoho_organization_id=ORG), database,
                          lambda *message: published.append(message)).test_client()
    answer = receiver.post(PRODUCTS, data=json.dumps({"item": item(organization_id=ORG)}),
                           headers=zoho_headers(json.dumps({"item": item(
                               organization_id=ORG)}).encode()))
    assert answer.status_code == 202
    assert "ignored" not in answer.get_json()
    assert receiver.application.extensions["tds"].events.flush(10)
    assert len(published) == 1
