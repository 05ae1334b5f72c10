"""Publishing stored events off the request thread.

The webhook view stores an event (one committed insert), hands its id here and
answers; a thread of this process publishes whatever has gathered meanwhile at
once (no timer: it wakes when an id arrives), in one pipelined batch, and marks
the batch ``queued`` in one statement. A broker that is slow or down never
delays an answer: its ids wait here (up to ``MAX_WAITING``; beyond that the
oldest are left to the sweeper) and go again, with a short backoff, until it
takes them, so a backlog reaches it as soon as it returns. A process that dies
first leaves its events ``received``, which the sweeper publishes.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from tds.entities import Entity
from tds.inbox import Enqueue

log = logging.getLogger("tds.webhooks.handoff")
MAX_BATCH = 500  # messages in one pipelined publish
MAX_WAITING = 100_000  # ids held while the broker is away (the sweeper has the rest)
BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0)  # between attempts while the broker refuses


class EventPublisher:
    """Publishes stored events in the background (see the module docstring)."""

    def __init__(self, publish: Enqueue, mark_queued: Callable[[list[int]], None]) -> None:
        self._publish = publish
        self._mark_queued = mark_queued
        self._waiting: deque[tuple[int, str, str]] = deque()  # event id, task, queue
        self._ready = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._closed = False

    def hand(self, event_id: int, entity: Entity) -> None:
        """Take a committed event's id; it is published as soon as this thread can."""
        with self._ready:
            if len(self._waiting) >= MAX_WAITING:
                dropped = self._waiting.popleft()
                log.warning("hand-off full; the sweeper publishes the oldest event",
                            extra={"event_id": dropped[0]})
            self._waiting.append((event_id, entity.event_task, entity.queue))
            if self._thread is None:  # started in the serving process, after any fork
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="tds-event-publisher")
                self._thread.start()
                atexit.register(self.close)  # a graceful stop publishes what it holds
            self._ready.notify()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every id handed over so far was published (or given up on);
        False when `timeout` ran out (tests and shutdown)."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._waiting and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Publish what is waiting if it can within `timeout`, then stop the thread
        (what is left stays ``received``, for the sweeper)."""
        self.flush(timeout)
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def _run(self) -> None:
        failures = 0
        while True:
            with self._ready:
                self._busy = False
                self._ready.notify_all()
                self._ready.wait_for(lambda: self._waiting or self._closed)
                if self._closed:
                    return
                batch = [self._waiting.popleft()
                         for _ in range(min(MAX_BATCH, len(self._waiting)))]
                self._busy = True
            if self._send(batch):
                failures = 0
                continue
            with self._ready:  # back in front, in order, for the next attempt
                self._waiting.extendleft(reversed(batch))
            time.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)])
            failures += 1

    def _send(self, batch: Sequence[tuple[int, str, str]]) -> bool:
        messages = [(task, [event_id], queue) for event_id, task, queue in batch]
        try:
            publish_many: Any = getattr(self._publish, "publish_many", None)
            if publish_many is not None:
                publish_many(messages)
            else:
                for message in messages:
                    self._publish(*message)
        except Exception as error:  # noqa: BLE001 - any broker failure: try again shortly
            log.warning("broker refused events; they wait here", extra={
                "events": len(batch), "error": f"{type(error).__name__}: {str(error)[:200]}"})
            return False
        try:
            self._mark_queued([event_id for event_id, _, _ in batch])
        except Exception as error:  # noqa: BLE001 - the marks are safe to lose
            log.warning("could not mark events queued (they are published)", extra={
                "events": len(batch), "error": f"{type(error).__name__}: {str(error)[:200]}"})
        return True
