"""Overlapping the stages of a full sync: reading an iterator one item ahead in
a thread, and working on a few items at once in threads, in order.

A full sync alternates between waiting for Zoho's next page and writing the
current one; with the next page fetched while the current one is written,
network and database overlap. Writing a page is itself Python work (mapping,
encoding) followed by a wait for Postgres; with two pages written at once, one
page's Python runs while the other's statement runs. Only a few pages are held,
so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_POLL_SECONDS = 0.1


class _Done:
    pass


def prefetched(items: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """Yield what `items` yields, in order, reading up to `depth` items ahead in a
    thread. An error raised by `items` is raised here, after the items before it.
    Closing this generator stops the reader (after any read in flight) and closes
    `items` in the reader's thread."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def read() -> None:
        last: Any = _Done
        try:
            for item in items:
                if not put((item, None)):
                    return
        except Exception as error:  # noqa: BLE001 - handed to the consumer, who raises it
            last = (None, error)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
            put(last)  # returns at once when the consumer has gone

    reader = threading.Thread(target=read, name="tds-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            entry = slots.get()
            if entry is _Done:
                return
            item, error = entry
            if error is not None:
                raise error
            yield item
    finally:
        stop.set()
        reader.join()


def worked_in_order(work: Callable[[T], R], items: Iterator[T],
                    width: int) -> Generator[tuple[T, R], None, None]:
    """Yield ``(item, work(item))`` in the order of `items`, with `work` running on
    up to `width` items at once in threads (`width` 1: inline, in this thread).
    An error raised by `work` is raised here in its item's turn; closing this
    generator, or an error, cancels the items not started and waits for the rest."""
    if width <= 1:
        for item in items:
            yield item, work(item)
        return
    pending: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(width, thread_name_prefix="tds-worker") as pool:
        try:
            for item in items:
                pending.append((item, pool.submit(work, item)))
                if len(pending) >= width:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()
