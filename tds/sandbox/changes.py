"""Simulated edits in Zoho: the admin change endpoint and the change loop.

Each change moves a record's ``last_modified_time`` forward, alters a field
a sync would notice, and emits the webhook Zoho's workflow rule would send;
a stock movement may leave its items' stamp alone (``stock_moves_stamp``).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable

from tds.sandbox import stock
from tds.sandbox.config import SandboxConfig
from tds.sandbox.data import Record, seeded
from tds.sandbox.store import Store
from tds.sandbox.webhooks import WebhookEmitter


def _edit(field: str, value: Callable[[Record, random.Random], object]) -> Callable[
        [random.Random], Callable[[Record], Record]]:
    def for_rng(rng: random.Random) -> Callable[[Record], Record]:
        return lambda record: {**record, field: value(record, rng)}
    return for_rng


def _reference(record: Record, rng: random.Random) -> str:
    return f"{str(record.get('reference_number', 'REF')).split('/')[0]}/{rng.randrange(10**6)}"


EDITS = {
    "items": _edit("rate", lambda r, rng: max(0.01, round(r["rate"] * rng.uniform(0.9, 1.1), 2))),
    "contacts": _edit("phone", lambda r, rng: f"+1-555-{rng.randrange(10_000):04d}"),
    "invoices": _edit("reference_number", _reference),
    "bills": _edit("reference_number", _reference),
    "creditnotes": _edit("reference_number", _reference),
    "salesorders": _edit("reference_number", _reference),
    "pricebooks": _edit("description", lambda r, rng: f"Negotiated rates v{rng.randrange(1000)}"),
}


class Mutator:
    """Edits random records of an entity and emits their webhooks."""

    def __init__(self, store: Store, emitter: WebhookEmitter, config: SandboxConfig) -> None:
        self.store = store
        self.emitter = emitter
        self.config = config
        self.rng = seeded(config.seed, "changes")
        self.lock = threading.Lock()

    def change(self, entity: str, count: int) -> list[Record]:
        """Change ``count`` random records (fewer if the table is smaller).

        For inventory adjustments a change is a new adjustment of a random
        item, which moves that item's stock (at its primary location) as a stock
        movement in Zoho does.
        """
        with self.lock:
            if entity == "inventory_adjustments":
                return [record for _ in range(count) if (record := self._adjust())]
            ids = self.store.ids(entity)
            chosen: list[str] = self.rng.sample(ids, min(count, len(ids)))
            edit = EDITS[entity](self.rng)
            changed = [record for rid in chosen if (record := self.store.modify(entity, rid, edit))]
        for record in changed:
            self.emitter.emit(entity, record)
        return changed

    def _adjust(self) -> Record | None:
        ids = self.store.ids("items")
        if not ids:
            return None
        body = {"reason": "Simulated movement", "line_items": [
            {"item_id": self.rng.choice(ids), "quantity_adjusted": self.rng.choice((-2, -1, 3))}]}
        adjustment, items = stock.adjust(self.store, body,
                                         moves_stamp=self.config.stock_moves_stamp)
        for item in items:
            self.emitter.emit("items", item)
        self.emitter.emit("inventory_adjustments", adjustment)
        return adjustment


def emit_changes(mutator: Mutator, rate_per_s: float, duration_s: float | None,
                 stop: threading.Event | None = None) -> int:
    """Change one random record every ``1/rate_per_s`` seconds for ``duration_s``
    (None: until ``stop`` is set). Returns how many changes were made."""
    stop = stop or threading.Event()
    entities = sorted([*EDITS, "inventory_adjustments"])
    interval = 1.0 / rate_per_s
    deadline = time.monotonic() + duration_s if duration_s is not None else math.inf
    made = 0
    due = time.monotonic()
    while due < deadline and not stop.is_set():
        made += len(mutator.change(mutator.rng.choice(entities), 1))
        due += interval  # on a schedule: the change's own time is not added to the interval
        stop.wait(max(0.0, due - time.monotonic()))
    return made
