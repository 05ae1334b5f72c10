"""Storing an event within a bounded time, whatever the database does.

A database that is down refuses at once, but one that hangs (a stopped server,
a full disk) answers nothing, and a thread waiting on it waits for ever. Each
store therefore runs on a thread of a pool of its own, and the request thread
waits at most ``TDS_DB_STATEMENT_TIMEOUT_SECONDS`` for it. Once a store has failed
(timed out, or could not reach the database), the database is taken for failing:
one request at a time tries it again and the others are refused at once, so a
hung or unreachable database holds one request thread, never all of them (and
``/healthz`` keeps answering). A success ends it. A store that finishes after its
request gave up still hands its event on; the sender, told 503, sends it again
and gets "duplicate".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from sqlalchemy.exc import OperationalError

T = TypeVar("T")


class StoreUnavailableError(Exception):
    """The database did not take the event in time (answered 503)."""


class BoundedStore:
    """Runs stores on `workers` threads and waits at most `timeout` seconds for each."""

    def __init__(self, workers: int, timeout: float) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="tds-store")
        self._free = threading.BoundedSemaphore(workers)
        self._trial = threading.Lock()  # held by the one store trying a failing database
        self.failing = False
        self.timeout = timeout

    def run(self, store: Callable[[], T]) -> T:
        """`store()`'s result. Raises :class:`StoreUnavailableError` when it did not finish
        within the timeout, or at once while the database is failing and another
        request is trying it; the database's own errors as they come."""
        if not self.failing:
            return self._attempt(store)
        if not self._trial.acquire(blocking=False):
            raise StoreUnavailableError("the database is failing; another request is trying it")
        try:
            return self._attempt(store)
        finally:
            self._trial.release()

    def _attempt(self, store: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.timeout
        if not self._free.acquire(timeout=self.timeout):
            self.failing = True
            raise StoreUnavailableError(f"no store thread came free within {self.timeout:g}s")
        future = self._pool.submit(self._held, store)
        try:
            result = future.result(max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            self.failing = True
            raise StoreUnavailableError(
                f"the database did not answer within {self.timeout:g}s") from None
        except OperationalError:  # unreachable, refused, dropped
            self.failing = True
            raise
        self.failing = False
        return result

    def _held(self, store: Callable[[], T]) -> T:
        try:
            return store()
        finally:
            self._free.release()
