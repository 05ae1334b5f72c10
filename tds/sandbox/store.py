"""The sandbox's in-memory organization: one table per entity (:mod:`tables`),
one lock, and the list queries over them.

Records are plain dicts holding the whole document a GET shows; a listing
shows each record's list view, its keys among the entity's ``list_fields``.
Readers get shallow copies, and writers replace nested values instead of
mutating them, so a copy handed to a response can be serialized outside the
lock. Every write moves ``last_modified_time`` strictly forward, as Zoho
does, so incremental syncs see it (stock moves may be told not to).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tds.sandbox.clock import format_time, now
from tds.sandbox.data import Record, entity_id
from tds.sandbox.entities import DEFAULT_PER_PAGE, SPECS
from tds.sandbox.tables import Table

LINE_TABLES = ("invoices", "bills", "creditnotes", "salesorders")


@dataclass(frozen=True)
class ListQuery:
    """One list request, already validated: paging, sort, filters."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort_column: str = ""
    sort_order: str = "A"
    statuses: frozenset[str] | None = None  # None: any status
    modified_since: int | None = None
    equals: dict[str, str] = field(default_factory=dict)
    search_text: str = ""
    search_fields: tuple[str, ...] = ()


class Store:
    """Thread-safe tables of every simulated entity."""

    def __init__(self, records: dict[str, list[Record]]) -> None:
        self.lock = threading.RLock()
        self.tables = {name: Table(spec, records.get(name, ())) for name, spec in SPECS.items()}
        # Zoho's number series go on after the generated records: the numbers of
        # entities with a number_field (sales orders), and line item ids.
        self.numbers = {name: len(table.records) for name, table in self.tables.items()
                        if table.spec.number_field}
        self.numbers["line_items"] = sum(len(record.get("line_items") or ())
                                         for name in LINE_TABLES
                                         for record in self.tables[name].records.values())

    def page_json(self, entity: str, query: ListQuery) -> tuple[list[str], bool]:
        """One page of records (list view, each as JSON text) and whether more pages follow."""
        with self.lock:
            table = self.tables[entity]
            ids = table.order(query.sort_column, query.sort_order == "D", query.statuses)
            start = (query.page - 1) * query.per_page
            if not _filters(query):  # a plain listing: slice, don't walk the pages before
                window = ids[start:start + query.per_page + 1]
                return ([table.list_json(rid) for rid in window[:query.per_page]],
                        len(window) > query.per_page)
            matching = (rid for rid in ids if _matches(table, rid, query))
            page: list[str] = []
            has_more = False
            for position, rid in enumerate(matching):
                if position >= start + query.per_page:
                    has_more = True
                    break
                if position >= start:
                    page.append(table.list_json(rid))
            return page, has_more

    def get(self, entity: str, record_id: str) -> Record | None:
        with self.lock:
            record = self.tables[entity].records.get(record_id)
            return dict(record) if record is not None else None

    def create(self, entity: str, record: Record) -> Record:
        """Store a new record under a fresh id, stamped with the current time."""
        with self.lock:
            table = self.tables[entity]
            table.next_index += 1
            record_id = entity_id(entity, table.next_index)
            epoch = now()
            stored = {**record, table.spec.id_field: record_id,
                      "created_time": format_time(epoch), "last_modified_time": format_time(epoch)}
            table.records[record_id] = stored
            table.modified[record_id] = epoch
            table.changed()
            return dict(stored)

    def next_number(self, series: str) -> int:
        """The next number of ``series`` (an entity with a ``number_field``, or
        ``"line_items"``), counting on from the generated records."""
        with self.lock:
            self.numbers[series] += 1
            return self.numbers[series]

    def modify(self, entity: str, record_id: str, change: Callable[[Record], Record],
               *, stamp: bool = True) -> Record | None:
        """Replace a record by ``change(copy)`` and move its modified time forward
        (``stamp=False``: leave it, as Zoho may when stock moves)."""
        with self.lock:
            table = self.tables[entity]
            current = table.records.get(record_id)
            if current is None:
                return None
            epoch = table.modified[record_id]
            if stamp:
                epoch = max(now(), epoch + 1)
            updated = {**change(dict(current)), table.spec.id_field: record_id,
                       "created_time": current["created_time"],
                       "last_modified_time": format_time(epoch)}
            table.records[record_id] = updated
            table.modified[record_id] = epoch
            table.changed()
            return dict(updated)

    def delete(self, entity: str, record_id: str) -> bool:
        with self.lock:
            table = self.tables[entity]
            if table.records.pop(record_id, None) is None:
                return False
            del table.modified[record_id]
            table.views.pop(record_id, None)
            table.changed()
            return True

    def ids(self, entity: str) -> list[str]:
        with self.lock:
            return list(self.tables[entity].records)

    def versions(self, entity: str) -> dict[str, str]:
        """``{id: last_modified_time}`` for comparing with a synced database."""
        with self.lock:
            return {rid: r["last_modified_time"]
                    for rid, r in self.tables[entity].records.items()}

    def count(self, entity: str) -> int:
        with self.lock:
            return len(self.tables[entity].records)


def _filters(query: ListQuery) -> bool:
    # Not the status filter: Table.order applies that one.
    return query.modified_since is not None or bool(query.equals) or bool(query.search_text)


def _matches(table: Table, record_id: str, query: ListQuery) -> bool:
    if query.modified_since is not None and table.modified[record_id] < query.modified_since:
        return False
    record = table.records[record_id]
    if any(str(record.get(name, "")) != value for name, value in query.equals.items()):
        return False
    if query.search_text:
        needle = query.search_text.lower()
        return any(needle in str(record.get(name, "")).lower() for name in query.search_fields)
    return True
