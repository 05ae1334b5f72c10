"""The one-page-ahead reader a full sync fetches through."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tds.prefetch import prefetched, worked_in_order


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


def test_worked_in_order_keeps_the_order_and_raises_an_error_in_its_turn() -> None:
    def work(number: int) -> int:
        if number == 3:
            raise RuntimeError("item 3 failed")
        return number * 10

    results = worked_in_order(work, iter(range(6)), width=2)
    assert [next(results) for _ in range(3)] == [(0, 0), (1, 10), (2, 20)]
    with pytest.raises(RuntimeError, match="item 3 failed"):
        next(results)


def test_worked_in_order_runs_items_at_once_up_to_the_width() -> None:
    both_started = threading.Barrier(2, timeout=10)

    def work(number: int) -> int:
        both_started.wait()  # returns only when two items run at the same time
        return number

    assert list(worked_in_order(work, iter(range(4)), width=2)) == [(n, n) for n in range(4)]


def test_worked_in_order_closed_early_starts_nothing_more() -> None:
    started: list[int] = []

    def work(number: int) -> int:
        started.append(number)
        return number

    results = worked_in_order(work, iter(range(100)), width=2)
    assert next(results) == (0, 0)
    results.close()
    assert len(started) <= 3
