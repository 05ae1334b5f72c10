"""The one-page-ahead reader a full sync fetches through."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tds.prefetch import prefetched


def test_items_arrive_in_order_and_an_error_after_the_items_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("page 3 failed")

    reader = prefetched(pages())
    assert [next(reader), next(reader)] == [1, 2]
    with pytest.raises(RuntimeError, match="page 3 failed"):
        next(reader)


def test_reads_at_most_one_ahead_and_closing_stops_the_reader() -> None:
    read: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for number in range(100):
                read.append(number)
                yield number
        finally:
            closed.set()

    reader = prefetched(pages())
    assert next(reader) == 0
    reader.close()
    assert closed.is_set()
    assert len(read) <= 3  # the page handed over, the one waiting, the one in hand
