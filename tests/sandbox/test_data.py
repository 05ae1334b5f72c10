"""The seeded generator and the admin data controls."""

from __future__ import annotations

from collections.abc import Callable

from tds.sandbox import SandboxServer
from tds.sandbox.documents import generate_all
from tests.fixtures.sandbox import SMALL, Books

LOCATION_KEYS = {"location_id", "location_name", "status", "is_primary", "location_stock_on_hand",
                 "location_available_stock", "location_actual_available_stock"}


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


def test_item_stock_is_the_sum_of_its_locations() -> None:
    for item in generate_all(5, SMALL)["items"]:
        assert [location["is_primary"] for location in item["locations"]] == [True, False]
        assert all(set(location) == LOCATION_KEYS for location in item["locations"])
        for field in ("stock_on_hand", "available_stock", "actual_available_stock"):
            assert sum(float(location[f"location_{field}"])
                       for location in item["locations"]) == item[field]


def test_transactions_add_up() -> None:
    data = generate_all(5, SMALL)
    for entity in ("invoices", "bills", "creditnotes", "salesorders"):
        for record in data[entity]:
            lines = record["line_items"]
            assert lines
            assert abs(sum(line["item_total"] for line in lines) - record["sub_total"]) < 0.01
            assert abs(record["sub_total"] + record["tax_total"] - float(record["total"])) < 0.01
            assert abs(sum(float(tax["tax_amount"]) for tax in record["taxes"])
                       - record["tax_total"]) < 1
    line_ids = [line["line_item_id"] for entity in ("invoices", "bills", "creditnotes",
                                                    "salesorders")
                for record in data[entity] for line in record["line_items"]]
    assert len(line_ids) == len(set(line_ids))


def test_parties_carry_addresses_and_persons() -> None:
    data = generate_all(5, SMALL)
    for contact in data["contacts"]:
        assert contact["billing_address"]["city"]
        assert contact["contact_persons"][0]["email"] == contact["email"]
    contacts = {contact["contact_id"]: contact for contact in data["contacts"]}
    for bill in data["bills"]:
        assert bill["billing_address"] == contacts[bill["vendor_id"]]["billing_address"]
        assert bill["custom_fields"][0]["label"] == "Cost Centre"


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
