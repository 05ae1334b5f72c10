"""The receiver while its broker or database hangs, dies or comes back empty, and when
it dies itself: answers never wait on the broker, nothing stored is lost, nothing is
stored twice. Each test runs its own Redis or Postgres (tests.fixtures.private).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from werkzeug.serving import make_server

from tds.config import Settings
from tds.db.models import InboxStatus
from tds.db.session import Database
from tds.events import take_due_events
from tds.inbox import ProcessorService
from tests.fixtures.private import PrivatePostgres, PrivateRedis, free_port
from tests.fixtures.receiver import PRODUCTS, item, stored_events, zoho_headers
from tests.fixtures.services import TEST_WEBHOOK_SECRET, empty_tables, make_settings
from webhooks_app import create_app
from workers.publish import REDIS_TIMEOUTS, producer_app

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
QUEUE = "tds.products"
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def serving(app: Flask) -> Iterator[int]:
    """Serve `app` on a threaded server of its own; its port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True,
                              kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def post(port: int, document: Any | None = None, path: str = PRODUCTS,
         method: str = "POST") -> tuple[int, float, dict[str, Any]]:
    """One signed request on a connection of its own: status, seconds, JSON body."""
    body = json.dumps(document if document is not None else {"item": item(new_id())}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.monotonic()
    connection.request(method, path, body=body if method == "POST" else None,
                       headers=zoho_headers(body) if method == "POST" else {})
    answer = connection.getresponse()
    text = answer.read()
    elapsed = time.monotonic() - started
    connection.close()
    return answer.status, elapsed, json.loads(text) if text else {}


def new_id() -> str:
    return str(uuid.uuid4().int % 10**15)


def queued_ids(client: redis.Redis) -> Counter[int]:
    """How often each event id waits in the products queue."""
    raw: list[bytes] = client.lrange(QUEUE, 0, -1)  # type: ignore[assignment]
    return Counter(json.loads(base64.b64decode(json.loads(message)["body"]))[0][0]
                   for message in raw)


@pytest.fixture
def receiving(postgres_url: str, tmp_path: Path) -> Iterator[Database]:
    database = Database(postgres_url)
    empty_tables(database)
    yield database
    empty_tables(database)
    database.dispose()


def receiver_on(settings: Settings, broker_url: str) -> Flask:
    settings = settings.with_overrides(broker_url=broker_url)
    return create_app(settings, Database.for_receiver(settings), producer_app(settings))


def test_a_hung_broker_never_delays_an_answer_and_gets_every_event_after(
        receiving: Database, postgres_url: str, tmp_path: Path,
        private_redis: PrivateRedis) -> None:
    app = receiver_on(make_settings(postgres_url, tmp_path), private_redis.url)
    broker = redis.Redis.from_url(private_redis.url)
    with serving(app) as port:
        assert post(port)[0] == 202
        private_redis.pause()
        try:
            during = [post(port) for _ in range(40)]
            assert post(port, path="/healthz", method="GET")[0] == 200
        finally:
            private_redis.resume()
        assert app.extensions["tds"].events.flush(60)
    assert [status for status, _, _ in during] == [202] * 40
    slowest = max(seconds for _, seconds, _ in during)
    print(f"answers while Redis hung: slowest {slowest * 1000:.0f} ms")
    # An answer that waited on the broker would have taken its socket timeout.
    assert slowest < REDIS_TIMEOUTS["socket_timeout"] / 2
    events = stored_events(receiving)
    assert len(events) == 41
    assert {event.status for event in events} == {InboxStatus.QUEUED}
    # A publish cut short by the hang may have reached Redis anyway: at least once.
    assert set(queued_ids(broker)) == {event.id for event in events}
    broker.close()


def test_a_broker_restarted_empty_gets_every_event_again(
        receiving: Database, postgres_url: str, tmp_path: Path,
        private_redis: PrivateRedis) -> None:
    settings = make_settings(postgres_url, tmp_path, sweeper_grace_seconds=0)
    app = receiver_on(settings, private_redis.url)
    with serving(app) as port:
        before = [post(port)[2]["event_id"] for _ in range(10)]
        assert app.extensions["tds"].events.flush(30)
        private_redis.kill()  # their messages die with it
        during = [post(port) for _ in range(10)]
        private_redis.start()  # empty
        assert app.extensions["tds"].events.flush(60)
    assert [status for status, _, _ in during] == [202] * 10
    broker = redis.Redis.from_url(private_redis.url)
    assert set(queued_ids(broker)) == {answer["event_id"] for _, _, answer in during}
    with receiving.session() as session:  # the dispatcher re-sends what Redis lost
        orphans = {due.inbox_event_id for due in take_due_events(session, settings)}
    assert set(before) <= orphans
    broker.close()


def test_a_hung_database_gets_503_within_the_timeout_and_health_answers(
        private_postgres: PrivatePostgres, redis_url: str, tmp_path: Path) -> None:
    timeout = 1.0
    settings = make_settings(private_postgres.url, tmp_path, db_statement_timeout_seconds=timeout,
                             db_connect_timeout_seconds=timeout)
    app = receiver_on(settings, redis_url)
    with serving(app) as port:
        assert post(port)[0] == 202
        private_postgres.pause()
        try:
            refused = [post(port)]  # waits for the timeout
            with ThreadPoolExecutor(8) as pool:  # one tries again, the others are refused
                refused += list(pool.map(lambda _: post(port), range(11)))
            health = post(port, path="/healthz", method="GET")
            readiness = post(port, path="/readyz", method="GET")
        finally:
            private_postgres.resume()
        after = post(port)
        assert app.extensions["tds"].events.flush(30)
    statuses = Counter(status for status, _, _ in refused)
    assert statuses == {503: 12}
    assert all(answer["error"] == "service_unavailable" for _, _, answer in refused)
    waits = sorted(seconds for _, seconds, _ in refused)
    print(f"503s while Postgres hung (timeout {timeout:g} s): "
          f"{', '.join(f'{seconds * 1000:.0f}' for seconds in waits)} ms")
    assert waits[-1] < timeout * 3
    # One request at a time tries the database; while it does, the others are refused at
    # once (so the request threads, and /healthz, stay free).
    assert sum(seconds < timeout / 2 for seconds in waits) >= 6
    assert health[0] == 200
    assert readiness[0] == 503
    assert readiness[2]["checks"] == {"database": readiness[2]["checks"]["database"],
                                      "broker": "ok"}
    assert readiness[2]["checks"]["database"] in {"timeout", "unreachable"}
    assert after[0] == 202


def test_a_receiver_killed_before_publishing_leaves_its_events_to_the_sweeper(
        receiving: Database, postgres_url: str, tmp_path: Path,
        private_redis: PrivateRedis) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": postgres_url, "CELERY_BROKER_URL": private_redis.url,
           "TDS_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET, "TDS_API_KEYS": "k",
           "TDS_VAR_DIR": str(tmp_path), "TDS_ENV": "test"}
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "webhooks_app:create_app()", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread", "--threads", "4"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        _wait_for_health(port, gunicorn)
        private_redis.pause()  # publishing hangs: the ids wait in the receiver's memory
        answers = [post(port) for _ in range(20)]
        os.killpg(gunicorn.pid, signal.SIGKILL)
        gunicorn.wait(10)
    finally:
        private_redis.resume()
        if gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGKILL)
    assert [status for status, _, _ in answers] == [202] * 20
    assert {event.status for event in stored_events(receiving)} == {InboxStatus.RECEIVED}
    settings = make_settings(postgres_url, tmp_path, sweeper_grace_seconds=0,
                             broker_url=private_redis.url)
    assert ProcessorService(settings).sweep(receiving, producer_app(settings)) == 20
    broker = redis.Redis.from_url(private_redis.url)
    assert set(queued_ids(broker)) == {answer["event_id"] for _, _, answer in answers}
    assert {event.status for event in stored_events(receiving)} == {InboxStatus.QUEUED}
    broker.close()


def _wait_for_health(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            if post(port, path="/healthz", method="GET")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer")
