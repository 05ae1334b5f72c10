"""Publishing stored events off the request thread.

The webhook view stores an event (one committed insert), hands its id here and
answers; a thread of this process publishes whatever has gathered meanwhile at
once (no timer: it wakes when an id arrives), in one pipelined batch, and marks
what it published ``queued`` in one statement within half a second. A broker that
is slow or down never delays an answer: its ids wait here (up to ``MAX_WAITING``;
beyond that the oldest are left to the sweeper) and go again, with a short
backoff, until it takes them, so a backlog reaches it as soon as it returns. A
process that dies first leaves its events ``received``, which the sweeper
publishes.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from tds.entities import Entity
from tds.inbox import Enqueue, publish_all

log = logging.getLogger("tds.webhooks.handoff")
MAX_BATCH = 500  # messages in one pipelined publish
MAX_WAITING = 100_000  # ids held while the broker is away (the sweeper has the rest)
BACKOFF_SECONDS = (0.1, 0.25, 0.5, 1.0)  # between attempts while the broker refuses
# Published events are marked queued in bulk, at most this long after: one UPDATE for many
# rows costs the database far less than one each, and the mark only keeps the sweeper
# (which waits TDS_SWEEPER_GRACE_SECONDS, a minute) from publishing an event again.
MARK_DELAY_SECONDS = 0.5


class EventPublisher:
    """Publishes stored events in the background (see the module docstring)."""

    def __init__(self, publish: Enqueue, mark_queued: Callable[[list[int]], None]) -> None:
        self._publish = publish
        self._mark_queued = mark_queued
        self._waiting: deque[tuple[int, str, str]] = deque()  # event id, task, queue
        self._published: list[int] = []  # not marked yet
        self._published_since = 0.0  # when the oldest of them was published (monotonic)
        self._ready = threading.Condition()
        self._busy = False
        self._urgent = False  # flush() or close() wants the marks now
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
        """Wait until every id handed over so far was published (or given up on) and
        marked; False when `timeout` ran out (tests and shutdown)."""
        with self._ready:
            self._urgent = True
            self._ready.notify_all()
            done = self._ready.wait_for(
                lambda: not (self._waiting or self._published or self._busy), timeout)
            self._urgent = False
            return done

    def close(self, timeout: float = 5.0) -> None:
        """Publish and mark what is waiting if it can within `timeout`, then stop the
        thread (what is left stays ``received``, for the sweeper)."""
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
                self._ready.wait_for(self._has_work, self._until_marks_due())
                batch = [self._waiting.popleft()
                         for _ in range(min(MAX_BATCH, len(self._waiting)))]
                marks = self._due_marks()
                self._busy = bool(batch or marks)
            if marks:
                self._mark(marks)
            if self._closed:
                return
            if not batch:
                continue
            if self._send(batch):
                failures = 0
                continue
            with self._ready:  # back in front, in order, for the next attempt
                self._waiting.extendleft(reversed(batch))
            time.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)])
            failures += 1

    def _has_work(self) -> bool:
        return bool(self._waiting) or self._closed or self._marks_due()

    def _marks_due(self) -> bool:
        return bool(self._published) and (
            self._urgent or len(self._published) >= MAX_BATCH
            or time.monotonic() - self._published_since >= MARK_DELAY_SECONDS)

    def _until_marks_due(self) -> float | None:
        if not self._published:
            return None
        return max(0.0, self._published_since + MARK_DELAY_SECONDS - time.monotonic())

    def _due_marks(self) -> list[int]:
        if not (self._marks_due() or (self._closed and self._published)):
            return []
        marks, self._published = self._published, []
        return marks

    def _send(self, batch: Sequence[tuple[int, str, str]]) -> bool:
        messages = [(task, [event_id], queue) for event_id, task, queue in batch]
        try:
            publish_all(self._publish, messages)
        except Exception as error:  # noqa: BLE001 - any broker failure: try again shortly
            log.warning("broker refused events; they wait here", extra={
                "events": len(batch), "error": f"{type(error).__name__}: {str(error)[:200]}"})
            return False
        with self._ready:
            if not self._published:
                self._published_since = time.monotonic()
            self._published.extend(event_id for event_id, _, _ in batch)
        return True

    def _mark(self, event_ids: list[int]) -> None:
        try:
            self._mark_queued(event_ids)
        except Exception as error:  # noqa: BLE001 - the marks are safe to lose
            log.warning("could not mark events queued (they are published)", extra={
                "events": len(event_ids), "error": f"{type(error).__name__}: {str(error)[:200]}"})
