"""Counters the tests and benchmarks read through ``/__admin/stats``."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

ALWAYS_SHOWN = ("requests", "rate_limited", "server_errors")


class Stats:
    """Thread-safe named counters, API answers per HTTP status, and per-endpoint counts.

    ``requests`` and ``status`` count calls to the API (what Zoho's limits
    count); calls to the accounts server count as ``token_requests``.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.endpoints: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.counters[name] += amount

    def served(self, endpoint: str, status: int | None, *, api: bool = True) -> None:
        """Count one request by endpoint and, for API calls, by status.

        ``status`` is None when no answer reached the client (a dropped connection).
        """
        with self.lock:
            self.endpoints[endpoint] += 1
            if not api:
                self.counters["token_requests"] += 1
                return
            self.counters["requests"] += 1
            if status is None:
                return
            self.statuses[str(status)] += 1
            if status == 429:
                self.counters["rate_limited"] += 1
            elif status >= 500:
                self.counters["server_errors"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {**self.counters, **{name: self.counters[name] for name in ALWAYS_SHOWN},
                    "status": dict(self.statuses), "endpoints": dict(self.endpoints)}

    def reset(self) -> None:
        with self.lock:
            self.counters.clear()
            self.statuses.clear()
            self.endpoints.clear()
