"""From stored event to broker message: the relay, a down broker, the sweeper.

These run a real Redis broker; the concurrency test a real threaded HTTP
server on Postgres.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from werkzeug.serving import BaseWSGIServer, make_server

from tds.config import Settings
from tds.db.models import InboxStatus
from tds.db.session import Database
from tds.inbox import TASK_BATCH, ProcessorService
from tests.conftest import empty_tables, make_settings
from tests.webhooks.conftest import PRODUCTS, events, item, post_zoho, zoho_headers
from webhooks_app import create_app
from workers.app import create_celery
from workers.relay import Relay, TaskEnqueue

pytestmark = pytest.mark.redis
DOWN_BROKER = "redis://127.0.0.1:1/0"
QUEUE_KEY = "tds.products"


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.delete(QUEUE_KEY, "tds.customers")
    yield client
    client.delete(QUEUE_KEY, "tds.customers")
    client.close()


def enqueue_on(settings: Settings, broker_url: str) -> TaskEnqueue:
    return TaskEnqueue(create_celery(settings.with_overrides(broker_url=broker_url)))


def queued_batches(broker: redis.Redis, queue: str = QUEUE_KEY) -> list[list[int]]:
    """The event-id lists of the task messages waiting in `queue`, oldest first."""
    messages = [json.loads(raw) for raw in reversed(broker.lrange(queue, 0, -1))]
    return [json.loads(base64.b64decode(message["body"]))[0][0] for message in messages]


def publish(settings: Settings, database: Database, broker_url: str,
            **options: Any) -> Any:
    with database.session() as session:
        return ProcessorService(settings).publish_received(
            session, enqueue_on(settings, broker_url), **options)


@pytest.fixture
def server(postgres_url: str, tmp_path: Path) -> Iterator[BaseWSGIServer]:
    settings = make_settings(postgres_url, tmp_path)
    database = Database(postgres_url, pool_size=20, max_overflow=40)
    httpd = make_server("127.0.0.1", 0, create_app(settings, database), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    thread.join()
    empty_tables(database)
    database.dispose()


@pytest.mark.postgres
def test_fifty_concurrent_identical_posts_store_one_event_and_publish_one_message(
        server: BaseWSGIServer, broker: redis.Redis, postgres_url: str, tmp_path: Path,
        redis_url: str) -> None:
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
    database = Database(postgres_url)
    settings = make_settings(postgres_url, tmp_path)
    assert publish(settings, database, redis_url).published == 1
    assert publish(settings, database, redis_url).published == 0
    [event] = events(database)
    database.dispose()
    assert event.status == InboxStatus.QUEUED
    assert queued_batches(broker) == [[event.id]]


def test_the_relay_batches_events_per_entity(settings: Settings, database: Database,
                                             broker: redis.Redis, redis_url: str) -> None:
    client = create_app(settings, database).test_client()
    for number in range(TASK_BATCH + 7):
        assert post_zoho(client, item(f"9{number:04d}")).status_code == 202
    assert post_zoho(client, {"contact": {"contact_id": "77", "contact_name": "A"}},
                     path="/api/zoho/webhooks/customers").status_code == 202
    round_ = publish(settings, database, redis_url)
    assert (round_.found, round_.published, round_.refused) == (TASK_BATCH + 8, TASK_BATCH + 8,
                                                                False)
    product_ids = [event.id for event in events(database) if event.entity == "products"]
    [customer] = [event for event in events(database) if event.entity == "customers"]
    assert queued_batches(broker) == [product_ids[:TASK_BATCH], product_ids[TASK_BATCH:]]
    assert queued_batches(broker, "tds.customers") == [[customer.id]]
    assert {event.status for event in events(database)} == {InboxStatus.QUEUED}


def test_a_down_broker_leaves_the_event_received_until_it_is_back(
        settings: Settings, database: Database, broker: redis.Redis, redis_url: str) -> None:
    answer = post_zoho(create_app(settings, database).test_client(), item("5151"))
    assert answer.status_code == 202
    round_ = publish(settings, database, DOWN_BROKER)
    assert (round_.found, round_.published, round_.refused) == (1, 0, True)
    [event] = events(database)
    assert event.status == InboxStatus.RECEIVED
    assert event.error
    assert "enqueue failed" in event.error

    assert publish(settings, database, redis_url).published == 1  # broker back
    [event] = events(database)
    assert (event.status, event.error) == (InboxStatus.QUEUED, None)
    assert event.queued_at is not None
    assert queued_batches(broker) == [[event.id]]
    assert publish(settings, database, redis_url).found == 0  # nothing left
    assert broker.llen(QUEUE_KEY) == 1


def test_the_sweeper_waits_out_the_grace_period(settings: Settings, database: Database,
                                                broker: redis.Redis, redis_url: str) -> None:
    assert post_zoho(create_app(settings, database).test_client(), item("5252")).status_code \
        == 202
    grace = timedelta(seconds=settings.sweeper_grace_seconds)
    assert publish(settings, database, redis_url, older_than=grace).found == 0
    later = datetime.now(UTC) + grace + timedelta(seconds=1)
    assert publish(settings, database, redis_url, older_than=grace, now=later).published == 1
    assert queued_batches(broker) == [[events(database)[0].id]]


def test_the_sweep_task_delivers_on_a_real_broker(
        settings: Settings, database: Database, broker: redis.Redis, redis_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import workers.app
    from workers.sweeper import SWEEP_TASK

    assert post_zoho(create_app(settings, database).test_client(), item("6161")).status_code \
        == 202
    assert events(database)[0].status == InboxStatus.RECEIVED

    task_settings = settings.with_overrides(broker_url=redis_url, sweeper_grace_seconds=0)
    monkeypatch.setitem(workers.app._state, "settings", task_settings)
    monkeypatch.setitem(workers.app._state, "database", database)
    celery = create_celery(task_settings)
    result = celery.tasks[SWEEP_TASK].apply()
    assert result.get() == 1
    [event] = events(database)
    assert event.status == InboxStatus.QUEUED
    assert queued_batches(broker) == [[event.id]]


def test_the_relay_loop_publishes_until_stopped(settings: Settings, database: Database,
                                                broker: redis.Redis, redis_url: str) -> None:
    relay_settings = settings.with_overrides(broker_url=redis_url)
    stop = threading.Event()
    relay = threading.Thread(
        target=Relay(database, relay_settings, create_celery(relay_settings)).run,
        args=(stop,))
    relay.start()
    try:
        assert post_zoho(create_app(settings, database).test_client(),
                         item("8181")).status_code == 202
        deadline = time.monotonic() + 10
        while broker.llen(QUEUE_KEY) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        relay.join(10)
    assert not relay.is_alive()
    assert queued_batches(broker) == [[events(database)[0].id]]
    assert events(database)[0].status == InboxStatus.QUEUED
