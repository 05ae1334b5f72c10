"""Inactive records: hidden from item and contact lists unless asked for, and the
documented routes that mark a record active or inactive."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tds.sandbox import SandboxServer
from tds.sandbox.clock import parse_time
from tests.fixtures.sandbox import Books, WebhookSink

# (path, list key, id field, noun in Zoho's messages)
MARKABLE = [("/items", "items", "item_id", "item"),
            ("/contacts", "contacts", "contact_id", "contact")]


def ids(books: Books, path: str, key: str, id_field: str, **params: str) -> set[str]:
    return {row[id_field] for row in books.walk(path, key, **params)}


@pytest.mark.parametrize(("path", "key", "id_field", "noun"), MARKABLE)
def test_inactive_records_are_listed_only_when_asked_for(
        books: Books, path: str, key: str, id_field: str, noun: str) -> None:
    everyone = ids(books, path, key, id_field)
    assert ids(books, path, key, id_field, filter_by="Status.All") == everyone  # all active
    record_id = sorted(everyone)[0]
    before = books.get(f"{path}/{record_id}").json()[noun]

    answer = books.call("POST", f"{path}/{record_id}/inactive")
    assert (answer.status_code, answer.json()) == (
        200, {"code": 0, "message": f"The {noun} has been marked as inactive."})
    after = books.get(f"{path}/{record_id}").json()[noun]
    assert after["status"] == "inactive"
    assert parse_time(after["last_modified_time"]) > parse_time(before["last_modified_time"])
    assert ids(books, path, key, id_field) == everyone - {record_id}
    assert ids(books, path, key, id_field, filter_by="Status.Active") == everyone - {record_id}
    assert ids(books, path, key, id_field, filter_by="Status.Inactive") == {record_id}
    assert ids(books, path, key, id_field, filter_by="Status.All") == everyone

    answer = books.call("POST", f"{path}/{record_id}/active")
    assert answer.json() == {"code": 0, "message": f"The {noun} has been marked as active."}
    assert ids(books, path, key, id_field) == everyone


def test_page_context_names_the_filter(books: Books) -> None:
    assert books.get("/items").json()["page_context"]["applied_filter"] == "Status.Active"
    assert books.get("/contacts", filter_by="Status.All").json()["page_context"][
        "applied_filter"] == "Status.All"


@pytest.mark.parametrize("path", ["/items", "/contacts"])
def test_other_filters_are_refused(books: Books, path: str) -> None:
    answer = books.get(path, filter_by="Status.Customers")
    assert (answer.status_code, answer.json()) == (
        400, {"code": 4, "message": "Invalid value passed for filter_by"})


def test_the_active_filter_pages_exactly(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(items=205)
    books = Books(server)
    hidden = sorted(server.admin.records("items"))[:5]
    for item_id in hidden:
        books.call("POST", f"/items/{item_id}/inactive")
    first = books.get("/items").json()
    assert (len(first["items"]), first["page_context"]["has_more_page"]) == (200, False)
    assert not {item["item_id"] for item in first["items"]} & set(hidden)


def test_marking_an_unknown_record_is_1002(books: Books) -> None:
    answer = books.call("POST", "/contacts/404/inactive")
    assert (answer.status_code, answer.json()) == (
        404, {"code": 1002, "message": "Contact does not exist."})


def test_marking_emits_the_edited_webhook(
        webhook_sink: WebhookSink, sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(webhook_url=webhook_sink.url)
    item_id = sorted(server.admin.records("items"))[0]
    Books(server).call("POST", f"/items/{item_id}/inactive")
    assert server.admin.flush_webhooks()
    [sent] = webhook_sink.received
    assert (sent.method, sent.path) == ("POST", "/api/zoho/webhooks/products")
    assert json.loads(sent.body)["item"]["status"] == "inactive"


def test_generated_records_start_active(books: Books) -> None:
    for path, key, _, _ in MARKABLE:
        rows = books.walk(path, key, filter_by="Status.All")
        assert {row["status"] for row in rows} == {"active"}


def test_price_lists_are_marked_as_zoho_words_it(books: Books, sandbox: SandboxServer) -> None:
    pricebook_id = sorted(sandbox.admin.records("pricebooks"))[0]
    assert books.call("POST", f"/pricebooks/{pricebook_id}/inactive").json() == {
        "code": 0, "message": "The price list has been marked inactive."}
    assert books.call("POST", f"/pricebooks/{pricebook_id}/active").json() == {
        "code": 0, "message": "The price list has been marked active."}
