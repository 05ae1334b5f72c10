"""Counters the tests and benchmarks read through ``/__admin/stats``."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Thread-safe named counters plus per-endpoint request counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self.endpoints: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.counters[name] += amount

    def served(self, endpoint: str, status: int) -> None:
        """Count one answered request by endpoint and status class."""
        with self.lock:
            self.counters["requests"] += 1
            self.endpoints[endpoint] += 1
            if status == 429:
                self.counters["rate_limited"] += 1
            elif status >= 500:
                self.counters["server_errors"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {**self.counters, "requests": self.counters["requests"],
                    "rate_limited": self.counters["rate_limited"],
                    "server_errors": self.counters["server_errors"],
                    "endpoints": dict(self.endpoints)}

    def reset(self) -> None:
        with self.lock:
            self.counters.clear()
            self.endpoints.clear()
