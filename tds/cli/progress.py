"""One progress line for long CLI work: pages, records, rate, elapsed, ETA, and what a
pass is waiting for."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tds.sync import SyncReport


class Progress:
    """Redraws one line on a terminal (a line per update elsewhere, e.g. in logs).

    `total` is the record count a previous whole pass saw, when known: it gives a
    percentage and an ETA.
    """

    def __init__(self, label: str, total: int | None = None,
                 stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.report: SyncReport | None = None
        self._live = self.stream.isatty()

    def update(self, report: SyncReport) -> None:
        self.report = report
        self._draw(self._line())

    def waiting(self, reason: str, seconds: float) -> None:
        """Say what the pass waits for and how long, instead of going silent."""
        first = reason.split(";")[0].split(". ")[0]
        self._draw(f"{self.label}: waiting {seconds:.0f}s: {first[:140]}", force_line=True)

    def done(self) -> None:
        if self._live:
            self.stream.write("\n")
            self.stream.flush()

    def _line(self) -> str:
        report = self.report
        assert report is not None
        elapsed = time.monotonic() - self.started
        rate = report.seen / elapsed if elapsed > 0 else 0.0
        line = (f"{self.label}: {report.pages} pages, {report.seen:,} records"
                f"{f' of {self.total:,}' if self.total else ''}, {rate:,.0f}/s, "
                f"{elapsed:.1f}s elapsed")
        if self.total and rate > 0 and report.seen < self.total:
            line += f", ETA {(self.total - report.seen) / rate:.0f}s"
        if report.details:
            line += f", {report.details} fetched in full"
        return line

    def _draw(self, line: str, force_line: bool = False) -> None:
        if self._live and not force_line:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(("\r\033[K" if self._live else "") + line + "\n")
        self.stream.flush()
