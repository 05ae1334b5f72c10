"""List rows are summaries, single GETs whole documents, for every entity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tds.sandbox import SandboxServer
from tds.sandbox.entities import SPECS, SimulatedEntity
from tests.fixtures.sandbox import DETAIL_FIELDS, Books

LINE_KEYS = {"line_item_id", "item_id", "name", "description", "quantity", "rate", "discount",
             "discount_amount", "tax_id", "tax_name", "tax_percentage", "item_total", "unit"}
WITH_GET = [spec for spec in SPECS.values() if spec.single_get]
TRANSACTIONS = ("invoices", "bills", "creditnotes", "salesorders")


def base_for(sandbox: SandboxServer, spec: SimulatedEntity) -> str:
    return sandbox.inventory_base_url if spec.api == "inventory" else sandbox.api_base_url


def listed(books: Books, sandbox: SandboxServer, spec: SimulatedEntity) -> list[dict[str, Any]]:
    answer = books.call("GET", f"/{spec.url_segment}", base=base_for(sandbox, spec))
    assert answer.status_code == 200
    rows: list[dict[str, Any]] = answer.json()[spec.list_key]
    assert rows
    return rows


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.name)
def test_list_rows_carry_only_list_fields(books: Books, sandbox: SandboxServer,
                                          spec: SimulatedEntity) -> None:
    for row in listed(books, sandbox, spec):
        assert set(row) <= set(spec.list_fields)
        assert {spec.id_field, "created_time", "last_modified_time"} <= set(row)
        assert not set(DETAIL_FIELDS[spec.name]) & set(row)


@pytest.mark.parametrize("spec", WITH_GET, ids=lambda spec: spec.name)
def test_a_get_is_the_whole_document(books: Books, sandbox: SandboxServer,
                                     spec: SimulatedEntity) -> None:
    for row in listed(books, sandbox, spec)[:5]:
        answer = books.call("GET", f"/{spec.url_segment}/{row[spec.id_field]}",
                            base=base_for(sandbox, spec))
        document = answer.json()[spec.single_key]
        assert {key: document[key] for key in row} == row  # the row is a cut of the document
        assert set(DETAIL_FIELDS[spec.name]) <= set(document)
        assert not set(DETAIL_FIELDS[spec.name]) & set(row)
        assert len(document) > len(row)
        if spec.name in TRANSACTIONS:
            assert all(set(line) >= LINE_KEYS for line in document["line_items"])


@pytest.mark.parametrize("path", ["/items", "/contacts", "/invoices", "/bills", "/creditnotes",
                                  "/salesorders", "/pricebooks"])
def test_per_page_defaults_to_200(books: Books, path: str) -> None:
    context = books.get(path).json()["page_context"]
    assert (context["page"], context["per_page"]) == (1, 200)


def test_a_full_default_page_says_more_follow(
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    books = Books(sandbox_factory(items=201))
    first, second = books.get("/items").json(), books.get("/items", page=2).json()
    assert (len(first["items"]), first["page_context"]["has_more_page"]) == (200, True)
    assert (len(second["items"]), second["page_context"]["has_more_page"]) == (1, False)


def test_created_lines_are_priced_like_generated_ones(books: Books) -> None:
    item = books.get("/items").json()["items"][0]
    customer = books.get("/contacts", contact_type="customer").json()["contacts"][0]
    created = books.call("POST", "/invoices", json={
        "customer_id": customer["contact_id"], "line_items": [
            {"item_id": item["item_id"], "quantity": 2, "rate": 50, "discount": 10,
             "tax_id": "1", "tax_name": "VAT", "tax_percentage": 20},
            {"item_id": item["item_id"], "quantity": 1}]}).json()["invoice"]
    first, second = created["line_items"]
    assert set(first) >= LINE_KEYS
    assert first["line_item_id"] != second["line_item_id"]
    assert (first["name"], first["discount_amount"], first["item_total"]) == (
        item["name"], 10.0, 90.0)
    assert second["item_total"] == item["rate"]
    assert created["sub_total"] == round(90 + item["rate"], 2)
    assert created["taxes"] == [{"tax_id": "1", "tax_name": "VAT (20%)", "tax_amount": 18.0}]
    assert created["total"] == round(created["sub_total"] + 18.0, 2)


def test_the_list_cache_holds_list_views(books: Books, sandbox: SandboxServer) -> None:
    item = books.get("/items").json()["items"][0]
    table = sandbox.state.store.tables["items"]
    cached = table.list_json(item["item_id"])
    assert table.list_json(item["item_id"]) is cached  # one encoding per record version
    books.call("PUT", f"/items/{item['item_id']}", json={"rate": 1.25})
    assert '"rate":1.25' in table.list_json(item["item_id"])
    assert "locations" not in table.list_json(item["item_id"])
