"""Zoho's API limits per organization: a per-minute sliding window and a
daily quota, both shortened by ``time_factor``."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import NamedTuple

from tds.sandbox.config import SandboxConfig


class Verdict(NamedTuple):
    """The outcome of one call against the limits, and the header values."""

    refused: str | None  # None, "minute" or "daily"
    limit: int
    remaining: int
    reset_seconds: int
    minute_frees_in: float = 0.0  # seconds until the minute window takes a call again


class RateLimiter:
    """Counts calls per organization; a refused call is not counted."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.minute: dict[str, deque[float]] = {}
        self.day_started = time.monotonic()
        self.day_calls: dict[str, int] = {}

    def _roll_day(self, moment: float) -> None:
        elapsed = moment - self.day_started
        if elapsed >= self.config.day_window:
            self.day_started += self.config.day_window * (elapsed // self.config.day_window)
            self.day_calls.clear()

    def check(self, org: str) -> Verdict:
        """Count a call for ``org`` unless a limit refuses it."""
        with self.lock:
            moment = time.monotonic()
            self._roll_day(moment)
            window = self.minute.setdefault(org, deque())
            while window and window[0] <= moment - self.config.minute_window:
                window.popleft()
            used = self.day_calls.get(org, 0)
            refused: str | None = None
            if used >= self.config.daily_limit:
                refused = "daily"
            elif len(window) >= self.config.rate_limit_per_min:
                refused = "minute"
                frees_in = window[0] + self.config.minute_window - moment
                return self._verdict(refused, used, moment)._replace(minute_frees_in=frees_in)
            else:
                window.append(moment)
                used += 1
                self.day_calls[org] = used
            return self._verdict(refused, used, moment)

    def peek(self, org: str) -> Verdict:
        """The header values for ``org`` without counting a call."""
        with self.lock:
            moment = time.monotonic()
            self._roll_day(moment)
            return self._verdict(None, self.day_calls.get(org, 0), moment)

    def _verdict(self, refused: str | None, used: int, moment: float) -> Verdict:
        reset = self.day_started + self.config.day_window - moment
        return Verdict(refused, self.config.daily_limit, max(0, self.config.daily_limit - used),
                       max(0, math.ceil(reset)))
