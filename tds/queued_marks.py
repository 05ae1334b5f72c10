"""Mark published inbox events ``queued`` in batches, off the request path.

Marking an event ``queued`` in the request that published it cost the
receiver a second transaction per webhook (four round trips on Postgres),
more than the durable insert itself. The mark only tells the sweeper to
leave the event alone, so :class:`QueuedMarks` collects the ids and a
background thread writes them in one ``UPDATE`` every `interval` seconds.

Losing marks is safe: a process that dies before its flush leaves those
events ``received``, the sweeper publishes them again after its grace
period, and the worker applies an event once however many messages carry
it (the ledger decides).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from tds.db.session import Database
from tds.inbox import mark_queued

log = logging.getLogger(__name__)
FLUSH_INTERVAL_SECONDS = 0.05


class QueuedMarks:
    """Ids of published events, written ``queued`` by a thread of this process."""

    def __init__(self, database: Database, interval: float = FLUSH_INTERVAL_SECONDS) -> None:
        self.database = database
        self.interval = interval
        self._pending: list[int] = []
        self._lock = threading.Lock()
        self._owner_pid: int | None = None

    def add(self, event_id: int) -> None:
        """Note that `event_id`'s task was published; it is marked within `interval`."""
        with self._lock:
            self._pending.append(event_id)
            if self._owner_pid != os.getpid():  # first use, or first use after a fork
                self._start_flusher()

    def flush(self) -> int:
        """Write the pending marks now; how many were pending. Never raises: marks a
        failed write loses are the sweeper's to redo."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        try:
            with self.database.session() as session:
                mark_queued(session, pending, datetime.now(UTC))
        except SQLAlchemyError as error:
            log.warning("could not mark published events queued; the sweeper will publish "
                        "them again", extra={"events": len(pending),
                                             "error": f"{type(error).__name__}: "
                                                      f"{str(error)[:200]}"})
        return len(pending)

    def _start_flusher(self) -> None:
        # Threads do not survive a fork (gunicorn's --preload): each process starts its own.
        self._owner_pid = os.getpid()
        threading.Thread(target=self._run, name="tds-queued-marks", daemon=True).start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()
