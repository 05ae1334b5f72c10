"""A whole TDS on real services: sandbox → receiver → Redis → Celery worker → Postgres.

`stack_factory(**sandbox_config, env={...})` starts a sandbox whose webhooks go to a
receiver served in this process; `stack.start_worker()` starts a real
`celery worker` subprocess pointed at them. Everything stops after the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from tds.config import Settings
from tds.db.models import InboxEvent
from tds.db.session import Database
from tds.entities import ALL_QUEUES, BY_NAME
from tds.mapping import parse_zoho_time
from tds.sandbox import SandboxServer
from tds.sandbox.server import QuietHandler as _Quiet
from tests.conftest import TEST_API_KEY, TEST_WEBHOOK_SECRET, empty_tables, make_settings
from tests.sandbox.conftest import sandbox, sandbox_factory  # noqa: F401
from tests.sync.conftest import add_event
from webhooks_app.factory import create_app
from workers.app import create_celery

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
WAIT_SECONDS = 90.0


class Worker:
    """A `celery worker` subprocess in a process group of its own."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 8,
                 pool: str = "threads") -> None:
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            [CELERY, "-A", "workers.app", "worker", "-Q", ",".join(ALL_QUEUES),
             "--pool", pool, "-c", str(concurrency), "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "info", "-n", f"w{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while b"ready" not in log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9 the worker and its pool processes."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class Stack:
    """The services of one test and helpers to drive and observe them."""

    def __init__(self, sandbox: SandboxServer, settings: Settings,  # noqa: F811
                 database: Database,
                 env: dict[str, str], tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.settings = settings
        self.database = database
        self.env = env
        self.tmp_path = tmp_path
        self.workers: list[Worker] = []
        self.celery = create_celery(settings)

    def start_worker(self, **env: str) -> Worker:
        worker = Worker({**self.env, **env}, self.tmp_path / f"worker{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    def send(self, task: str, *args: Any) -> None:
        queue = "tds.maintenance" if task.startswith("tds.maintenance") \
            else task.rsplit(".", 1)[0]
        self.celery.send_task(task, args=list(args), queue=queue)

    def event(self, entity: str, zoho_id: str, payload: dict[str, Any]) -> int:
        """Store an inbox event as the receiver does, and enqueue it."""
        event_id = add_event(self.database, entity, zoho_id, payload)
        self.send(BY_NAME[entity].event_task, event_id)
        return event_id

    def stored(self, entity: str) -> dict[str, Any]:
        model: Any = BY_NAME[entity].model
        with self.database.session() as session:
            return dict(session.execute(select(model.zoho_id, model.last_modified_time)
                                        .where(model.deleted_at.is_(None))).all())

    def expected(self, sandbox_entity: str) -> dict[str, Any]:
        return {key: parse_zoho_time(value)
                for key, value in self.sandbox.admin.records(sandbox_entity).items()}

    def inbox_statuses(self) -> dict[str, int]:
        with self.database.session() as session:
            return dict(session.execute(select(InboxEvent.status, func.count())
                                        .group_by(InboxEvent.status)).all())

    def wait_for(self, condition: Callable[[], bool], what: str,
                 timeout: float = WAIT_SECONDS, every: Callable[[], None] | None = None) -> None:
        """Poll `condition` (calling `every` between polls) until it holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                logs = "\n".join(w.log_path.read_text()[-4000:] for w in self.workers)
                raise AssertionError(f"timed out waiting for {what}\n{logs}")
            if every is not None:
                every()
            time.sleep(0.25)

    def dispatch(self) -> None:
        self.send("tds.maintenance.dispatch_due")

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.celery.close()


class _Receiver:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, create_app(settings, database),
                                                  threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/zoho/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


StackFactory = Callable[..., Stack]


@pytest.fixture
def stack_factory(postgres_url: str, redis_url: str, tmp_path: Path,
                  sandbox_factory: Callable[..., SandboxServer],  # noqa: F811
                  ) -> Iterator[StackFactory]:
    """Build a stack; `env` overrides the worker's environment, the rest configures the
    sandbox (its webhooks always go to this stack's receiver)."""
    redis.Redis.from_url(redis_url).flushdb()
    database = Database(postgres_url)
    empty_tables(database)
    stacks: list[Stack] = []
    receivers: list[_Receiver] = []

    def build(env: dict[str, str] | None = None, **sandbox_config: Any) -> Stack:
        base = make_settings(postgres_url, tmp_path, broker_url=redis_url, redis_url=redis_url,
                             sweeper_grace_seconds=2)
        receiver = _Receiver(base, database)
        receivers.append(receiver)
        server = sandbox_factory(**{"webhook_url": receiver.url,
                                    "webhook_secret": TEST_WEBHOOK_SECRET, **sandbox_config})
        config = server.config
        settings = base.with_overrides(
            zoho_client_id=config.client_id, zoho_client_secret=config.client_secret,
            zoho_refresh_token=config.refresh_token,
            zoho_organization_id=config.organization_id,
            zoho_accounts_url=server.accounts_url, zoho_api_base_url=server.api_base_url)
        worker_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TDS_", "ZOHO_"))},
            "DATABASE_URL": postgres_url, "CELERY_BROKER_URL": redis_url, "REDIS_URL": redis_url,
            "ZOHO_CLIENT_ID": config.client_id, "ZOHO_CLIENT_SECRET": config.client_secret,
            "ZOHO_REFRESH_TOKEN": config.refresh_token,
            "ZOHO_ORGANIZATION_ID": config.organization_id,
            "ZOHO_ACCOUNTS_URL": server.accounts_url, "ZOHO_API_BASE_URL": server.api_base_url,
            "ZOHO_RATE_LIMIT_PER_MIN": "1000000", "ZOHO_DAILY_LIMIT": "1000000",
            "ZOHO_TIMEOUT_SECONDS": "10",
            "TDS_TESTING": "true", "TDS_ENV": "test", "TDS_VAR_DIR": str(tmp_path),
            "TDS_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET, "TDS_API_KEYS": TEST_API_KEY,
            "TDS_TASK_MAX_RETRIES": "3", "TDS_RETRY_BACKOFF_MAX_SECONDS": "1",
            "TDS_SWEEPER_GRACE_SECONDS": "2", "TDS_LOG_LEVEL": "INFO",
            **(env or {}),
        }
        stack = Stack(server, settings, database, worker_env, tmp_path)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stack.close()
    for receiver in receivers:
        receiver.stop()
    empty_tables(database)
    database.dispose()
