"""One entity's records as the store keeps them, with what makes listing cheap:
sorted (and status-filtered) id orders cached until the next write, and each
record's list view cached as JSON per version of the record.

A list view holds the record's keys among the entity's ``list_fields``, in
their order; the store's lock guards every call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tds.sandbox.clock import parse_time
from tds.sandbox.data import Record
from tds.sandbox.entities import SimulatedEntity

ENCODER = json.JSONEncoder(separators=(",", ":"))  # json.dumps without its per-call setup


class Table:
    """One entity's records, with a cache of sorted (and status-filtered) id orders."""

    def __init__(self, spec: SimulatedEntity, records: Iterable[Record]) -> None:
        self.spec = spec
        self.records: dict[str, Record] = {r[spec.id_field]: r for r in records}
        self.modified = {key: parse_time(r["last_modified_time"])
                         for key, r in self.records.items()}
        self.next_index = len(self.records)
        self.orders: dict[tuple[str, str, frozenset[str] | None], list[str]] = {}
        # Each record's list view as JSON, with the record it was made from; made for the
        # generated records here, so listing them is cheap from the first page on.
        self.views: dict[str, tuple[Record, str]] = {}
        for record_id in self.records:
            self.list_json(record_id)

    def order(self, column: str, descending: bool,
              statuses: frozenset[str] | None = None) -> list[str]:
        """Ids of the records with one of ``statuses`` (None: all), sorted by ``column``
        (then id), cached until the next write: items list active ones by default, and
        filtering 100,000 items again for each page would make a full listing quadratic."""
        cache_key = (column, "D" if descending else "A", statuses)
        if cache_key not in self.orders:
            if column == "last_modified_time":
                def key(rid: str) -> tuple[Any, ...]:
                    return (self.modified[rid], rid)
            else:
                def key(rid: str) -> tuple[Any, ...]:
                    return (_sortable(self.records[rid].get(column)), rid)
            ids: Iterable[str] = self.records
            if statuses is not None:
                ids = [rid for rid, record in self.records.items()
                       if record.get("status") in statuses]
            self.orders[cache_key] = sorted(ids, key=key, reverse=descending)
        return self.orders[cache_key]

    def changed(self) -> None:
        self.orders.clear()

    def list_json(self, record_id: str) -> str:
        """The record's list view as JSON text, made once per version of the record
        (writes replace a record, never mutate it, so the same object is the same
        version): a full sync lists every record, each listing would encode it anew."""
        record = self.records[record_id]
        cached = self.views.get(record_id)
        if cached is None or cached[0] is not record:
            view = {key: record[key] for key in self.spec.list_fields if key in record}
            text = ENCODER.encode(view)
            cached = self.views[record_id] = (record, text)
        return cached[1]


def _sortable(value: Any) -> tuple[int, Any]:
    # Mixed types (a client may send a number where we hold a string) must not break sorting.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, "" if value is None else str(value).lower())
