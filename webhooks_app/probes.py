"""Readiness checks that answer within a bound, whatever a dependency does.

A dependency that refuses fails a check at once; one that hangs (a stopped
server) would hold the checking thread for ever. Each :class:`Probe` runs its
check on a thread of its own and waits at most its timeout; while an earlier
check still hangs, the next call answers ``timeout`` at once instead of starting
another, so a hung dependency holds one thread, never the request threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

log = logging.getLogger("tds.health")
OK, UNREACHABLE, TIMEOUT = "ok", "unreachable", "timeout"


class Probe:
    """Checks one dependency: `check()` returns when it answers, raises when it fails."""

    def __init__(self, name: str, check: Callable[[], None], timeout: float) -> None:
        self.name = name
        self.check = check
        self.timeout = timeout
        self._running: Future[None] | None = None
        self._lock = threading.Lock()

    def status(self) -> str:
        """``ok``, ``unreachable`` (it failed; the reason goes to the log) or ``timeout``
        (no answer within the timeout)."""
        with self._lock:
            if self._running is None or self._running.done():
                self._running = self._start()
            running = self._running
        try:
            running.result(self.timeout)
        except TimeoutError:
            log.warning("a dependency does not answer", extra={
                "dependency": self.name, "timeout_seconds": self.timeout})
            return TIMEOUT
        except Exception as error:  # noqa: BLE001 - any failure: not ready, say why in the log
            log.warning("a dependency is unreachable", extra={
                "dependency": self.name, "error": f"{type(error).__name__}: {str(error)[:300]}"})
            return UNREACHABLE
        return OK

    def _start(self) -> Future[None]:
        future: Future[None] = Future()

        def run() -> None:
            try:
                self.check()
            except BaseException as error:  # noqa: BLE001 - handed to the waiting request
                future.set_exception(error)
            else:
                future.set_result(None)

        threading.Thread(target=run, daemon=True, name=f"tds-probe-{self.name}").start()
        return future
