"""From stored event to broker message: concurrency, a down broker, the sweeper.

These run a real Redis broker; the concurrency test a real threaded HTTP
server on Postgres.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tds.config import Settings
from tds.db.models import InboxStatus
from tds.db.session import Database
from tds.inbox import ProcessorService
from tests.fixtures.receiver import (
    PRODUCTS,
    item,
    post_zoho,
    published,
    stored_events,
    zoho_headers,
)
from tests.fixtures.services import empty_tables, make_settings
from webhooks_app import create_app
from workers import names
from workers.app import create_celery
from workers.publish import Publisher, SharedClientTransport, producer_app

pytestmark = pytest.mark.redis
DOWN_BROKER = "redis://127.0.0.1:1/0"
QUEUE_KEY = "tds.products"


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.delete(QUEUE_KEY)
    yield client
    client.delete(QUEUE_KEY)
    client.close()


def producer_for(settings: Settings, broker_url: str) -> Publisher:
    """The receiver's own publisher (shared-client Redis transport, short timeouts)."""
    return producer_app(settings.with_overrides(broker_url=broker_url))


def queued_event_ids(broker: redis.Redis) -> list[Any]:
    messages = [json.loads(raw) for raw in broker.lrange(QUEUE_KEY, 0, -1)]
    return [json.loads(base64.b64decode(message["body"]))[0][0]
            for message in messages]


@pytest.fixture
def server(postgres_url: str, tmp_path: Path, redis_url: str) -> Iterator[BaseWSGIServer]:
    settings = make_settings(postgres_url, tmp_path)
    database = Database(postgres_url, pool_size=20, max_overflow=40)
    app = create_app(settings, database, producer_for(settings, redis_url))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    thread.join()
    empty_tables(database)
    database.dispose()


@pytest.mark.postgres
def test_fifty_concurrent_identical_posts_store_one_event_and_one_message(
        server: BaseWSGIServer, broker: redis.Redis, postgres_url: str) -> None:
    body = json.dumps({"item": item("4242")}).encode()
    headers = zoho_headers(body)
    start = threading.Barrier(50)
    statuses: list[int] = []
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def post() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        start.wait()
        connection.request("POST", PRODUCTS, body=body, headers=headers)
        answer = connection.getresponse()
        with lock:
            statuses.append(answer.status)
            answers.append(json.loads(answer.read()))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 49 + [202]
    assert len({answer["event_id"] for answer in answers}) == 1
    published(cast(Flask, server.app))
    database = Database(postgres_url)
    [event] = stored_events(database)
    database.dispose()
    assert event.status == InboxStatus.QUEUED
    assert broker.llen(QUEUE_KEY) == 1
    assert queued_event_ids(broker) == [event.id]


def test_the_receivers_producer_publishes_every_message_through_one_client(
        settings: Settings, broker: redis.Redis, redis_url: str) -> None:
    enqueue = producer_for(settings, redis_url)
    assert enqueue.celery.conf.broker_transport is SharedClientTransport
    clients = []  # kept, so no two ids can be the same recycled address
    for event_id in (1, 2, 3):
        enqueue("tds.products.apply_event", [event_id], QUEUE_KEY)
        with enqueue.celery.producer_or_acquire() as publisher:
            clients.append(publisher.channel._create_client())
    assert queued_event_ids(broker) == [3, 2, 1]  # LPUSH: newest first
    assert all(client is clients[0] for client in clients)


def test_a_down_broker_leaves_the_event_received_then_the_sweeper_delivers(
        settings: Settings, database: Database, broker: redis.Redis, redis_url: str) -> None:
    app = create_app(settings, database, producer_for(settings, DOWN_BROKER))
    answer = post_zoho(app.test_client(), item("5151"))
    assert answer.status_code == 202  # stored: the broker is not on the request's way
    app.extensions["tds"].events.close(timeout=0.5)  # a receiver gone before publishing
    [event] = stored_events(database)
    assert event.status == InboxStatus.RECEIVED

    service = ProcessorService(settings)
    later = datetime.now(UTC) + timedelta(seconds=settings.sweeper_grace_seconds + 1)
    # Within the grace period: left alone.
    assert service.sweep(database, producer_for(settings, redis_url)) == 0
    # The broker still down: nothing moves.
    assert service.sweep(database, producer_for(settings, DOWN_BROKER), now=later) == 0
    assert stored_events(database)[0].status == InboxStatus.RECEIVED
    # The broker back.
    assert service.sweep(database, producer_for(settings, redis_url), now=later) == 1
    [event] = stored_events(database)
    assert (event.status, event.error) == (InboxStatus.QUEUED, None)
    assert event.queued_at is not None
    assert queued_event_ids(broker) == [event.id]
    assert service.sweep(database, producer_for(settings, redis_url), now=later) == 0
    assert broker.llen(QUEUE_KEY) == 1


def test_the_sweeper_drains_a_backlog_in_one_run(
        settings: Settings, database: Database, broker: redis.Redis, redis_url: str) -> None:
    app = create_app(settings, database, producer_for(settings, DOWN_BROKER))
    receiver = app.test_client()
    for number in range(1200):  # more than two sweep batches
        assert post_zoho(receiver, item(str(900000 + number))).status_code == 202
    app.extensions["tds"].events.close(timeout=0.5)
    later = datetime.now(UTC) + timedelta(seconds=settings.sweeper_grace_seconds + 1)
    service = ProcessorService(settings)
    assert service.sweep(database, producer_for(settings, redis_url), now=later) == 1200
    assert broker.llen(QUEUE_KEY) == 1200
    assert {event.status for event in stored_events(database)} == {InboxStatus.QUEUED}


def test_the_sweep_task_delivers_on_a_real_broker(
        settings: Settings, database: Database, broker: redis.Redis, redis_url: str) -> None:
    app = create_app(settings, database, producer_for(settings, DOWN_BROKER))
    assert post_zoho(app.test_client(), item("6161")).status_code == 202
    app.extensions["tds"].events.close(timeout=0.5)
    assert stored_events(database)[0].status == InboxStatus.RECEIVED

    celery = create_celery(settings.with_overrides(broker_url=redis_url,
                                                   sweeper_grace_seconds=0))
    result = celery.tasks[names.SWEEP_INBOX].apply()
    assert result.get() == 1
    [event] = stored_events(database)
    assert event.status == InboxStatus.QUEUED
    assert queued_event_ids(broker) == [event.id]


def test_a_worker_that_finished_first_is_not_marked_queued(settings: Settings,
                                                           database: Database) -> None:
    def fast_worker(task_name: str, args: list[Any], queue: str) -> None:
        assert (task_name, queue) == ("tds.products.apply_event", "tds.products")
        with database.session() as session:
            from sqlalchemy import update

            from tds.db.models import InboxEvent
            session.execute(update(InboxEvent).where(InboxEvent.id == args[0])
                            .values(status=InboxStatus.PROCESSED))

    app = create_app(settings, database, fast_worker)
    assert post_zoho(app.test_client(), item("7171")).status_code == 202
    published(app)
    assert stored_events(database)[0].status == InboxStatus.PROCESSED
