"""`python -m workers.relay`: publish stored webhook events to their entity queues.

The receiver only stores events and answers (a transactional outbox, so a
webhook costs one insert and one commit). This process takes what was
stored, oldest first, and publishes one task message per entity for up to
50 events (:data:`tds.inbox.TASK_BATCH`), polling every
``TDS_RELAY_INTERVAL_MS`` when idle and at once while a backlog lasts.
Several relays may run: on Postgres each takes rows with SKIP LOCKED. When
no relay runs, the beat sweeper publishes what was left ``received`` past
the grace period.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from tds.config import Settings
from tds.db.session import Database
from tds.inbox import PUBLISH_BATCH, ProcessorService, PublishRound
from tds.logs import configure_logging

log = logging.getLogger("tds.relay")
# Fail fast when the broker is down: the next round tries again.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.0, "interval_step": 0.2,
                        "interval_max": 0.2}
TROUBLE_PAUSE_SECONDS = 1.0  # after a refused publish or a database error


class TaskEnqueue:
    """:class:`tds.inbox.Enqueue` over a Celery app's ``send_task``, failing fast."""

    def __init__(self, celery: Any) -> None:
        self.celery = celery

    def __call__(self, task_name: str, args: list[Any], queue: str) -> None:
        self.celery.send_task(task_name, args=args, queue=queue, retry=True,
                              retry_policy=PUBLISH_RETRY_POLICY)


class Relay:
    """Publishes received events until told to stop."""

    def __init__(self, database: Database, settings: Settings, celery: Any) -> None:
        self.database = database
        self.service = ProcessorService(settings)
        self.enqueue = TaskEnqueue(celery)
        self.idle_seconds = settings.relay_interval_ms / 1000

    def run_once(self) -> PublishRound:
        """One round: publish what is waiting (at most one batch) and commit."""
        with self.database.session() as session:
            return self.service.publish_received(session, self.enqueue)

    def run(self, stop: threading.Event) -> None:
        """Rounds until `stop` is set; a backlog is drained without pausing."""
        while not stop.is_set():
            try:
                round_ = self.run_once()
            except SQLAlchemyError as error:
                log.warning("database unavailable; the relay tries again",
                            extra={"error": f"{type(error).__name__}: {str(error)[:200]}"})
                stop.wait(TROUBLE_PAUSE_SECONDS)
                continue
            if round_.refused:
                stop.wait(TROUBLE_PAUSE_SECONDS)
            elif round_.found < PUBLISH_BATCH:  # caught up: wait for more
                stop.wait(self.idle_seconds)


def main() -> None:
    """Run a relay in the foreground until SIGTERM or SIGINT."""
    from workers.app import app, database, settings

    configure_logging(settings().log_level, settings().log_json)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("relay stopping", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("relay started", extra={"interval_ms": settings().relay_interval_ms})
    Relay(database(), settings(), app).run(stop)


if __name__ == "__main__":
    main()
