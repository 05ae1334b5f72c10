"""Reading an iterator one item ahead in a thread.

A full sync alternates between waiting for Zoho's next page and writing the
current one; with the next page fetched while the current one is written,
network and database overlap. Only one page waits, so memory stays flat
(at most the page being written, the one waiting and the one being fetched).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
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
