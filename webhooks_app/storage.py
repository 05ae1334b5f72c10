"""Storing an event within a bounded time, whatever the database does.

A database that is down refuses at once, but one that hangs (a stopped server,
a full disk) answers nothing, and a thread waiting on it waits for ever. Each
store therefore runs on a thread of a pool of its own, and the request thread
waits at most ``TDS_DB_STATEMENT_TIMEOUT_SECONDS`` for a thread and its answer:
a hung database holds the pool's threads, never the request threads, and once
every pool thread has been held longer than that timeout the database is taken
for hung and each store is refused at once (so ``/healthz`` and everything else
keep their threads). A store that finishes after its request gave up still
hands its event on; the sender, told 503, sends it again and gets "duplicate".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")


class StoreUnavailableError(Exception):
    """The database did not take the event in time (answered 503)."""


class BoundedStore:
    """Runs stores on `workers` threads and waits at most `timeout` seconds for each."""

    def __init__(self, workers: int, timeout: float) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="tds-store")
        self._free = threading.BoundedSemaphore(workers)
        self._started: dict[int, float] = {}  # running stores: key -> when they began
        self._lock = threading.Lock()
        self._workers = workers
        self.timeout = timeout

    def run(self, store: Callable[[], T]) -> T:
        """`store()`'s result; :class:`StoreUnavailableError` when the database holds every
        thread past the timeout (it hangs), or this store did not finish within it."""
        deadline = time.monotonic() + self.timeout
        if self._hung():
            raise StoreUnavailableError("the database holds every store thread: it hangs")
        if not self._free.acquire(timeout=self.timeout):
            raise StoreUnavailableError(f"no store thread came free within {self.timeout:g}s")
        future = self._pool.submit(self._held, store)
        try:
            return future.result(max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise StoreUnavailableError(
                f"the database did not answer within {self.timeout:g}s") from None

    def _hung(self) -> bool:
        with self._lock:
            started = list(self._started.values())
        return (len(started) >= self._workers
                and time.monotonic() - min(started) > self.timeout)

    def _held(self, store: Callable[[], T]) -> T:
        key = threading.get_ident()
        with self._lock:
            self._started[key] = time.monotonic()
        try:
            return store()
        finally:
            with self._lock:
                del self._started[key]
            self._free.release()
