"""Every answer of `POST /api/zoho/webhooks/<entity>`, on SQLite and Postgres."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tds.config import Settings
from tds.db import migrate
from tds.db.models import InboxStatus
from tds.db.session import Database
from tds.entities import ENTITIES, Entity
from tds.logs import JSONFormatter
from tests.fixtures.receiver import (
    PRODUCTS,
    item,
    post_form,
    post_zoho,
    published,
    standard_headers,
    stored_events,
    unique_item,
    zoho_headers,
)
from tests.fixtures.services import TEST_WEBHOOK_SECRET, empty_tables, make_settings
from webhooks_app import create_app


def test_accepts_a_wrapped_record_stores_it_and_queues_it(receiver: FlaskClient,
                                                           database: Database) -> None:
    answer = post_zoho(receiver, {"item": item()})
    body = answer.get_json()
    assert answer.status_code == 202
    assert body["accepted"] is True
    assert body["message"]
    published(receiver)
    assert answer.headers["X-Correlation-ID"] == body["correlation_id"]
    [event] = stored_events(database)
    assert event.id == body["event_id"]
    assert (event.entity, event.zoho_id, event.status) == ("products", "460000000012345",
                                                           InboxStatus.QUEUED)
    assert event.queued_at is not None
    assert event.signature_scheme == "zoho"
    assert event.correlation_id == body["correlation_id"]
    assert event.payload == item()
    assert json.loads(event.raw_body) == {"item": item()}
    assert event.last_modified_time == datetime(2023, 11, 18, 10, 2, 51, tzinfo=UTC)
    assert event.dedup_key.startswith("sha256:")
    assert "x-zoho-webhook-signature" not in event.headers
    assert event.headers["content-type"] == "application/json"


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda entity: entity.webhook)
def test_every_entity_has_a_route(receiver: FlaskClient, database: Database,
                                  entity: Entity) -> None:
    answer = post_zoho(receiver, {entity.single_key: {entity.id_field: "123"}},
                       path=f"/api/zoho/webhooks/{entity.webhook}")
    assert answer.status_code == 202
    [event] = stored_events(database)
    assert (event.entity, event.zoho_id, event.last_modified_time) == (entity.name, "123", None)


def test_accepts_a_bare_object_a_numeric_id_and_put(receiver: FlaskClient,
                                                    database: Database) -> None:
    body = json.dumps({"item_id": 987, "name": "bare"}).encode()
    answer = receiver.put(PRODUCTS, data=body, headers=zoho_headers(body))
    assert answer.status_code == 202
    assert stored_events(database)[0].zoho_id == "987"


def test_accepts_form_encoded_jsonstring(receiver: FlaskClient, database: Database) -> None:
    assert post_form(receiver, {"item": item("55")}).status_code == 202
    [event] = stored_events(database)
    assert event.zoho_id == "55"
    assert event.content_type == "application/x-www-form-urlencoded"
    assert event.raw_body.startswith("JSONString=")


def test_a_replay_is_a_duplicate_with_no_second_task(receiver: FlaskClient,
                                                     database: Database) -> None:
    first = post_zoho(receiver, {"item": item()})
    again = post_zoho(receiver, {"item": item()})
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert again.get_json()["event_id"] == first.get_json()["event_id"]
    assert again.get_json()["message"]
    assert len(stored_events(database)) == 1


def test_the_same_record_wrapped_or_bare_is_one_event(receiver: FlaskClient,
                                                      database: Database) -> None:
    assert post_zoho(receiver, {"item": item()}).status_code == 202
    assert post_zoho(receiver, item()).status_code == 200
    assert post_form(receiver, item()).status_code == 200
    assert len(stored_events(database)) == 1


def test_a_changed_record_is_a_new_event(receiver: FlaskClient, database: Database) -> None:
    assert post_zoho(receiver, item()).status_code == 202
    changed = item(last_modified_time="2023-11-18T02:03:00-0800")
    assert post_zoho(receiver, changed).status_code == 202
    assert len(stored_events(database)) == 2


def test_standard_webhook_id_is_the_dedup_key(receiver: FlaskClient, database: Database) -> None:
    first = json.dumps(unique_item()).encode()
    second = json.dumps(unique_item()).encode()  # another body, same webhook-id
    assert receiver.post(PRODUCTS, data=first,
                       headers=standard_headers(first, "msg_1")).status_code == 202
    again = receiver.post(PRODUCTS, data=second, headers=standard_headers(second, "msg_1"))
    assert again.status_code == 200
    [event] = stored_events(database)
    assert (event.dedup_key, event.signature_scheme) == ("wh:msg_1", "standard")
    assert "webhook-signature" not in event.headers
    assert event.headers["webhook-id"] == "msg_1"


@pytest.mark.parametrize(("document", "fragment"), [
    ({"item": {"name": "no id"}}, "item_id"),
    ({"item_id": {"a": 1}}, "item_id"),
    ({"item_id": True}, "item_id"),
    ({"item_id": "1", "last_modified_time": "2023-13-45T99:00:00+0000"}, "last_modified_time"),
    ([{"item_id": "1"}, {"item_id": "2"}], "array"),
])
def test_invalid_records_are_400_and_say_why(receiver: FlaskClient, database: Database,
                                             document: object, fragment: str) -> None:
    answer = post_zoho(receiver, document)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
    assert fragment in answer.get_json()["message"]
    assert stored_events(database) == []


def test_malformed_json_is_400(receiver: FlaskClient, database: Database) -> None:
    body = b'{"item_id": "1"'
    answer = receiver.post(PRODUCTS, data=body, headers=zoho_headers(body))
    assert answer.status_code == 400
    assert "JSON" in answer.get_json()["message"]
    assert stored_events(database) == []


def test_no_signature_is_401(receiver: FlaskClient, database: Database) -> None:
    answer = receiver.post(PRODUCTS, json=item())
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert "signature" in answer.get_json()["message"]
    assert stored_events(database) == []


def test_unknown_entity_is_404(receiver: FlaskClient) -> None:
    answer = post_zoho(receiver, item(), path="/api/zoho/webhooks/orders")
    assert answer.status_code == 404
    assert "products" in answer.get_json()["message"]


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_other_methods_are_405(receiver: FlaskClient, method: str) -> None:
    answer = receiver.open(PRODUCTS, method=method)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST, PUT, DELETE"
    assert "DELETE" in answer.get_json()["message"]


def test_a_body_over_the_limit_is_413_from_content_length(settings: Settings,
                                                          database: Database) -> None:
    receiver = create_app(settings.with_overrides(webhook_max_bytes=2048), database).test_client()
    body = json.dumps(item(name="x" * 4000)).encode()
    answer = receiver.post(PRODUCTS, data=body, headers=zoho_headers(body))
    assert answer.status_code == 413
    assert "2048" in answer.get_json()["message"]
    assert stored_events(database) == []


@pytest.mark.parametrize(("size", "status"), [(4000, 413), (100, 202)])
def test_a_chunked_body_is_read_within_bounds(settings: Settings, database: Database,
                                              size: int, status: int) -> None:
    receiver = create_app(settings.with_overrides(webhook_max_bytes=2048), database).test_client()
    body = json.dumps(item(name="x" * size)).encode()
    answer = receiver.post(PRODUCTS, input_stream=io.BytesIO(body), headers=zoho_headers(body),
                         environ_overrides={"wsgi.input_terminated": True})
    assert answer.status_code == status
    assert len(stored_events(database)) == (status == 202)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data",
                                          ""])
def test_a_body_that_is_not_json_nor_a_form_is_415(receiver: FlaskClient, database: Database,
                                                  content_type: str) -> None:
    body = b"<item><item_id>1</item_id></item>"
    answer = receiver.post(PRODUCTS, data=body,
                           headers=zoho_headers(body, content_type=content_type))
    assert answer.status_code == 415
    assert "application/json" in answer.get_json()["message"]
    assert stored_events(database) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/octet-stream", ""])
def test_json_under_any_label_is_read_as_json(receiver: FlaskClient, database: Database,
                                              content_type: str) -> None:
    body = json.dumps({"item": item()}).encode()
    answer = receiver.post(PRODUCTS, data=body,
                           headers=zoho_headers(body, content_type=content_type))
    assert answer.status_code == 202, answer.get_json()
    assert [event.zoho_id for event in stored_events(database)] == [item()["item_id"]]


def test_a_database_that_points_nowhere_is_503(tmp_path: Path) -> None:
    settings = make_settings("postgresql+psycopg2://nobody@127.0.0.1:1/none", tmp_path)
    answer = post_zoho(create_app(settings).test_client(), item())
    assert answer.status_code == 503
    assert "database" in answer.get_json()["message"]
    assert answer.headers["Retry-After"]


@pytest.mark.postgres
def test_connections_dropped_by_a_database_restart_are_replaced_without_a_refusal(
        postgres_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(postgres_url, tmp_path))  # the factory's own engine
    database = app.extensions["tds"].database
    receiver = app.test_client()
    assert post_zoho(receiver, unique_item()).status_code == 202
    admin = create_engine(postgres_url, poolclass=NullPool)
    with admin.begin() as connection:  # what a restart does to the pooled connection
        dropped = connection.scalar(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    admin.dispose()
    assert dropped >= 1
    assert [post_zoho(receiver, unique_item()).status_code for _ in range(3)] == [202] * 3
    assert len(stored_events(database)) == 4
    empty_tables(database)
    database.dispose()


def test_a_database_without_the_inbox_table_is_503(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path)
    answer = post_zoho(create_app(settings).test_client(), item())
    assert answer.status_code == 503


def test_correlation_id_is_taken_when_sane(receiver: FlaskClient, database: Database) -> None:
    answer = post_zoho(receiver, item(), **{"X-Request-ID": "req-42.a"})
    assert answer.headers["X-Correlation-ID"] == "req-42.a"
    assert stored_events(database)[0].correlation_id == "req-42.a"
    other = post_zoho(receiver, unique_item(), **{"X-Correlation-ID": "bad id with spaces"})
    assert other.headers["X-Correlation-ID"] != "bad id with spaces"
    assert len(other.headers["X-Correlation-ID"]) == 32


def test_one_audit_line_per_request_without_secrets(receiver: FlaskClient, database: Database,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(item()).encode()
    headers = zoho_headers(body)
    with caplog.at_level(logging.INFO, logger="tds.webhooks"):
        receiver.post(PRODUCTS, data=body, headers=headers)
        receiver.post(PRODUCTS, data=body, headers={**headers, "X-Zoho-Webhook-Signature": "00"})
    lines = [record for record in caplog.records if record.name == "tds.webhooks"]
    assert [(line.outcome, line.status) for line in lines] == [  # type: ignore[attr-defined]
        ("accepted", 202), ("unauthorized", 401)]
    first = json.loads(JSONFormatter().format(lines[0]))
    assert first["entity"] == "products"
    assert first["zoho_id"] == "460000000012345"
    assert first["correlation_id"]
    assert isinstance(first["latency_ms"], float)
    text = "\n".join(JSONFormatter().format(line) for line in lines)
    assert headers["X-Zoho-Webhook-Signature"] not in text
    assert TEST_WEBHOOK_SECRET not in text


def test_the_schema_in_a_fresh_sqlite_file_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    migrate.upgrade(url)
    database = Database(url)
    receiver = create_app(make_settings(url, tmp_path), database).test_client()
    assert post_zoho(receiver, item()).status_code == 202
    database.dispose()


def test_a_served_app_freezes_what_it_loaded_and_has_its_producer(tmp_path: Path) -> None:
    # A full collection walking every startup object paused the request threads for about
    # 100 ms. A fresh interpreter, as gunicorn's worker is: tests keep gc unfrozen.
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    script = ("import gc\n"
              "from webhooks_app import create_app\n"
              "app = create_app()\n"
              "print(gc.get_freeze_count(), app.extensions['tds'].publisher is not None)\n")
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": "memory://",
           "TDS_ENV": "test", "TDS_VAR_DIR": str(tmp_path), "TDS_TESTING": "0"}
    answer = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True, timeout=60)
    frozen, installed = answer.stdout.split()
    assert int(frozen) > 10_000
    assert installed == "True"
