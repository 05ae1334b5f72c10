"""The Books endpoints: gatekeeping, pagination, filters, sort and writes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tds.sandbox import SandboxServer
from tds.sandbox.clock import parse_time
from tests.fixtures.sandbox import Books

UNAUTHORIZED = {"code": 57, "message": "You are not authorized to perform this operation"}
INVALID_TOKEN = {"code": 14, "message": "Invalid OAuth access token."}


def test_unknown_token_is_401_code_57(sandbox: SandboxServer) -> None:
    answer = requests.get(f"{sandbox.api_base_url}/items", timeout=10,
                          params={"organization_id": sandbox.config.organization_id},
                          headers={"Authorization": "Zoho-oauthtoken 1000.nope"})
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)
    assert answer.headers["X-Rate-Limit-Limit"] == "10000"


@pytest.mark.parametrize("header", [None, "", "Bearer 1000.abc", "Zoho-oauthtoken "])
def test_missing_or_malformed_header_is_401_code_14(sandbox: SandboxServer,
                                                    header: str | None) -> None:
    answer = requests.get(f"{sandbox.api_base_url}/items", timeout=10,
                          params={"organization_id": sandbox.config.organization_id},
                          headers={} if header is None else {"Authorization": header})
    assert (answer.status_code, answer.json()) == (401, INVALID_TOKEN)


def test_organization_id_is_required(books: Books, sandbox: SandboxServer) -> None:
    answer = books.session.get(f"{sandbox.api_base_url}/items", timeout=10,
                               headers={"Authorization": f"Zoho-oauthtoken {books.token}"})
    assert answer.status_code == 400
    assert answer.json()["message"] == "Invalid value passed for organization_id"


def test_unknown_organization_is_refused(books: Books) -> None:
    answer = books.get("/items", organization_id="999")
    assert answer.status_code == 400
    assert answer.json()["code"] == 6041


def test_organizations_lists_the_one_org_without_organization_id(
        books: Books, sandbox: SandboxServer) -> None:
    answer = books.session.get(f"{sandbox.api_base_url}/organizations", timeout=10,
                               headers={"Authorization": f"Zoho-oauthtoken {books.token}"})
    assert [org["organization_id"] for org in answer.json()["organizations"]] == ["10234695"]


def test_pagination_walk_collects_every_id_once(
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(items=2500)
    ids = [item["item_id"] for item in Books(server).walk("/items", "items", per_page=200)]
    assert len(ids) == len(set(ids)) == 2500
    assert set(ids) == set(server.admin.records("items"))
    assert all(item_id.isdigit() for item_id in ids)


def test_per_page_above_200_is_clamped(books: Books) -> None:
    assert books.get("/items", per_page=500).json()["page_context"]["per_page"] == 200


def test_bad_page_is_400(books: Books) -> None:
    assert books.get("/items", page="zero").status_code == 400


def test_last_modified_time_filter(books: Books, sandbox: SandboxServer) -> None:
    changed = {row["id"] for row in sandbox.admin.change("invoices", 3)}
    since = _newest_unchanged(sandbox, changed)
    found = books.walk("/invoices", "invoices", last_modified_time=since)
    found_ids = {invoice["invoice_id"] for invoice in found}
    assert changed <= found_ids
    assert all(parse_time(invoice["last_modified_time"]) >= parse_time(since)
               for invoice in found)
    assert len(found_ids) < len(sandbox.admin.records("invoices"))


def _newest_unchanged(sandbox: SandboxServer, changed: set[str]) -> str:
    times = [time for rid, time in sandbox.admin.records("invoices").items() if rid not in changed]
    return max(times, key=parse_time)


def test_filter_works_on_items_too(books: Books, sandbox: SandboxServer) -> None:
    changed = sandbox.admin.change("items", 2)
    since = min(row["last_modified_time"] for row in changed)
    ids = {item["item_id"] for item in books.walk("/items", "items", last_modified_time=since)}
    assert {row["id"] for row in changed} == ids


def test_malformed_last_modified_time_is_400(books: Books) -> None:
    assert books.get("/invoices", last_modified_time="yesterday").status_code == 400


@pytest.mark.parametrize("order", ["A", "D"])
def test_sort_by_last_modified_time(books: Books, order: str) -> None:
    bills = books.walk("/bills", "bills", sort_column="last_modified_time", sort_order=order,
                       per_page=200)
    times = [parse_time(bill["last_modified_time"]) for bill in bills]
    assert times == sorted(times, reverse=order == "D")


def test_sort_items_by_name(books: Books) -> None:
    names = [item["name"] for item in books.walk("/items", "items", sort_column="name")]
    assert names == sorted(names, key=str.lower)


def test_contact_type_filter(books: Books) -> None:
    vendors = books.walk("/contacts", "contacts", contact_type="vendor")
    customers = books.walk("/contacts", "contacts", contact_type="customer")
    assert vendors
    assert customers
    assert {contact["contact_type"] for contact in vendors} == {"vendor"}
    assert {contact["contact_type"] for contact in customers} == {"customer"}


def test_item_crud(books: Books) -> None:
    created = books.call("POST", "/items", json={"name": "Sandbox Widget", "rate": 12.5})
    assert created.status_code == 201
    assert created.json()["message"] == "The item has been added."
    item = created.json()["item"]
    assert item["item_id"].isdigit()
    assert books.get(f"/items/{item['item_id']}").json()["item"]["name"] == "Sandbox Widget"
    updated = books.call("PUT", f"/items/{item['item_id']}", json={"rate": 15.0})
    assert updated.status_code == 200
    assert updated.json()["item"]["rate"] == 15.0
    assert parse_time(updated.json()["item"]["last_modified_time"]) > parse_time(
        item["last_modified_time"])
    deleted = books.call("DELETE", f"/items/{item['item_id']}")
    assert deleted.json() == {"code": 0, "message": "The item has been deleted."}
    missing = books.get(f"/items/{item['item_id']}")
    assert (missing.status_code, missing.json()) == (
        404, {"code": 1002, "message": "Item does not exist."})


def test_missing_invoice_is_1002(books: Books) -> None:
    answer = books.get("/invoices/123")
    assert answer.json() == {"code": 1002, "message": "Invoice does not exist."}


def test_malformed_json_is_1038(books: Books) -> None:
    answer = books.call("POST", "/salesorders", data="{not json",
                        headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.json()) == (
        400, {"code": 1038, "message": "JSON is not well formed"})


def test_unknown_path_and_method(books: Books) -> None:
    assert books.get("/nothing").json()["code"] == 5
    assert books.call("PATCH", "/items").status_code == 405




def test_a_listing_shows_each_record_as_last_written(books: Books) -> None:
    def listed(item_id: str) -> dict[str, object]:
        answer = books.get("/items", sort_column="created_time", sort_order="D")
        assert list(answer.json()) == ["code", "message", "items", "page_context"]
        return next(item for item in answer.json()["items"] if item["item_id"] == item_id)

    item = books.call("POST", "/items", json={"name": "Listed Widget", "rate": 1.5}).json()["item"]
    assert listed(item["item_id"])["rate"] == 1.5
    books.call("PUT", f"/items/{item['item_id']}", json={"rate": 2.5})
    assert listed(item["item_id"])["rate"] == 2.5
