"""The seeded generator and the admin data controls."""

from __future__ import annotations

from collections.abc import Callable

from tds.sandbox import SandboxServer
from tds.sandbox.documents import generate_all
from tests.fixtures.sandbox import SMALL, Books


def test_same_seed_same_data() -> None:
    assert generate_all(7, SMALL) == generate_all(7, SMALL)
    assert generate_all(7, SMALL) != generate_all(8, SMALL)


def test_same_seed_same_answers(sandbox_factory: Callable[..., SandboxServer]) -> None:
    first, second = sandbox_factory(seed=3), sandbox_factory(seed=3)
    for entity in ("items", "contacts", "invoices", "pricebooks"):
        assert first.admin.records(entity) == second.admin.records(entity)
    assert Books(first).get("/invoices").json() == Books(second).get("/invoices").json()


def test_counts_are_independent_per_entity() -> None:
    more_items = generate_all(1, {**SMALL, "items": 40})
    assert more_items["contacts"] == generate_all(1, SMALL)["contacts"]


def test_generated_records_are_consistent() -> None:
    data = generate_all(5, SMALL)
    vendors = {c["contact_id"] for c in data["contacts"] if c["contact_type"] == "vendor"}
    item_ids = {item["item_id"] for item in data["items"]}
    assert {bill["vendor_id"] for bill in data["bills"]} <= vendors
    assert all(line["item_id"] in item_ids for book in data["pricebooks"]
               for line in book["pricebook_items"])


def test_change_moves_modified_time(sandbox: SandboxServer) -> None:
    before = sandbox.admin.records("contacts")
    changed = sandbox.admin.change("contacts", 4)
    after = sandbox.admin.records("contacts")
    assert len(changed) == 4
    for row in changed:
        assert after[row["id"]] == row["last_modified_time"] != before[row["id"]]


def test_delete(sandbox: SandboxServer) -> None:
    ids = list(sandbox.admin.records("bills"))[:2]
    assert sandbox.admin.delete("bills", [*ids, "404"]) == ids
    assert not set(ids) & set(sandbox.admin.records("bills"))
    assert sandbox.state.store.count("bills") == SMALL["bills"] - 2
