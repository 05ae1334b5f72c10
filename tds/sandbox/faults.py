"""Injected faults: latency, 500 answers, dropped connections, and creates whose
answer is lost (stored, then the connection dropped).

Set at start from the config and changed live through ``/__admin/faults``;
the decisions come from a seeded random stream so a run can be repeated.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tds.sandbox.config import SandboxConfig
from tds.sandbox.data import seeded


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: wait, then maybe fail or drop it."""

    delay_seconds: float
    fail: bool
    drop: bool


class Faults:
    """The current fault settings; thread-safe."""

    def __init__(self, config: SandboxConfig) -> None:
        self.lock = threading.Lock()
        self.rng = seeded(config.seed, "faults")
        self.latency_ms = config.latency_ms
        self.error_rate = config.error_rate
        self.drop_rate = config.drop_rate
        self.drop_after_create = config.drop_after_create

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply the given settings (others unchanged); raise ValueError on bad values."""
        latency = int(changes.get("latency_ms", self.latency_ms))
        error_rate = float(changes.get("error_rate", self.error_rate))
        drop_rate = float(changes.get("drop_rate", self.drop_rate))
        after_create = int(changes.get("drop_after_create", self.drop_after_create))
        if latency < 0 or not 0 <= error_rate <= 1 or not 0 <= drop_rate <= 1 \
                or after_create < 0:
            raise ValueError("latency_ms and drop_after_create must be >= 0; error_rate and "
                             "drop_rate in [0, 1].")
        with self.lock:
            self.latency_ms, self.error_rate, self.drop_rate = latency, error_rate, drop_rate
            self.drop_after_create = after_create
        return self.settings()

    def settings(self) -> dict[str, Any]:
        with self.lock:
            return {"latency_ms": self.latency_ms, "error_rate": self.error_rate,
                    "drop_rate": self.drop_rate, "drop_after_create": self.drop_after_create}

    def plan(self) -> FaultPlan:
        with self.lock:
            drop = self.rng.random() < self.drop_rate
            fail = not drop and self.rng.random() < self.error_rate
            return FaultPlan(self.latency_ms / 1000, fail, drop)

    def lose_create_answer(self) -> bool:
        """Whether the create just stored loses its answer (one of the next
        ``drop_after_create`` creates)."""
        with self.lock:
            if self.drop_after_create <= 0:
                return False
            self.drop_after_create -= 1
            return True
