"""Price lists: no single GET; items through /pricebooks/items, changed price
lists through /pricebooks/bulkfetch."""

from __future__ import annotations

from collections.abc import Callable

from tds.sandbox import SandboxServer
from tds.sandbox.clock import now, parse_time
from tests.fixtures.sandbox import Books

ROW_KEYS = {"item_id", "name", "sku", "rate", "pricebook_rate", "pricing_scheme"}


def first_pricebook(sandbox: SandboxServer) -> str:
    return sorted(sandbox.admin.records("pricebooks"))[0]


def test_there_is_no_get_of_one_price_list(books: Books, sandbox: SandboxServer) -> None:
    pricebook_id = first_pricebook(sandbox)
    answer = books.get(f"/pricebooks/{pricebook_id}")
    assert (answer.status_code, answer.json()) == (405, {
        "code": 37, "message": "The HTTP method GET is not allowed for the requested resource"})
    updated = books.call("PUT", f"/pricebooks/{pricebook_id}", json={"description": "Trade"})
    assert updated.json()["pricebook"]["description"] == "Trade"
    assert books.call("DELETE", f"/pricebooks/{pricebook_id}").json()["code"] == 0


def test_price_list_rows_carry_no_items(books: Books) -> None:
    for path in ("/pricebooks", "/pricebooks/bulkfetch"):
        rows = books.get(path).json()["pricebooks"]
        assert rows
        assert all("pricebook_items" not in row for row in rows)


def test_items_of_a_price_list(books: Books, sandbox: SandboxServer) -> None:
    pricebook_id = first_pricebook(sandbox)
    stored = sandbox.state.store.get("pricebooks", pricebook_id)
    assert stored is not None
    answer = books.get("/pricebooks/items", pricebook_id=pricebook_id)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["message"]) == (0, "success")
    rows = body["pricebook_items"]
    assert all(set(row) == ROW_KEYS for row in rows)
    assert {row["item_id"]: row["pricebook_rate"] for row in rows} == {
        entry["item_id"]: entry["pricebook_rate"] for entry in stored["pricebook_items"]}
    assert [row["name"] for row in rows] == sorted(row["name"] for row in rows)
    for row in rows:
        item = books.get(f"/items/{row['item_id']}").json()["item"]
        assert (row["name"], row["sku"], row["rate"]) == (item["name"], item["sku"], item["rate"])
    assert (body["page_context"]["per_page"], body["page_context"]["has_more_page"]) == (
        200, False)


def test_items_of_a_price_list_page(books: Books, sandbox: SandboxServer) -> None:
    pricebook_id = first_pricebook(sandbox)
    whole = books.get("/pricebooks/items", pricebook_id=pricebook_id).json()["pricebook_items"]
    pages = [books.get("/pricebooks/items", pricebook_id=pricebook_id, per_page=2,
                       page=page).json() for page in (1, 2, 3)]
    assert [page["page_context"]["has_more_page"] for page in pages] == [True, True, False]
    assert [row for page in pages for row in page["pricebook_items"]] == whole


def test_items_of_an_unknown_or_unnamed_price_list(books: Books) -> None:
    unknown = books.get("/pricebooks/items", pricebook_id="404")
    assert (unknown.status_code, unknown.json()) == (
        404, {"code": 1002, "message": "Price List does not exist."})
    unnamed = books.get("/pricebooks/items")
    assert (unnamed.status_code, unnamed.json()) == (
        400, {"code": 4, "message": "Invalid value passed for pricebook_id"})


def test_a_deleted_item_leaves_its_price_lists(books: Books, sandbox: SandboxServer) -> None:
    pricebook_id = first_pricebook(sandbox)
    rows = books.get("/pricebooks/items", pricebook_id=pricebook_id).json()["pricebook_items"]
    books.call("DELETE", f"/items/{rows[0]['item_id']}")
    after = books.get("/pricebooks/items", pricebook_id=pricebook_id).json()["pricebook_items"]
    assert after == rows[1:]


def test_bulkfetch_lists_active_price_lists_unless_asked(books: Books,
                                                         sandbox: SandboxServer) -> None:
    everyone = set(sandbox.admin.records("pricebooks"))
    pricebook_id = first_pricebook(sandbox)
    books.call("POST", f"/pricebooks/{pricebook_id}/inactive")

    def listed(**params: str) -> set[str]:
        body = books.get("/pricebooks/bulkfetch", **params).json()
        assert body["page_context"]["per_page"] == 200
        return {row["pricebook_id"] for row in body["pricebooks"]}

    assert listed() == everyone - {pricebook_id}
    assert listed(filter_by="Status.All") == everyone
    assert listed(filter_by="Status.Inactive") == {pricebook_id}
    assert books.get("/pricebooks/bulkfetch", filter_by="Status.Nope").status_code == 400


def test_bulkfetch_returns_changed_price_lists(books: Books, sandbox: SandboxServer) -> None:
    [changed] = sandbox.admin.change("pricebooks", 1)
    # An edit stamps the price list with the present, as Zoho would.
    assert abs(parse_time(changed["last_modified_time"]) - now()) < 60
    rows = books.get("/pricebooks/bulkfetch", filter_by="Status.All",
                     last_modified_time=changed["last_modified_time"]).json()["pricebooks"]
    assert [(row["pricebook_id"], row["last_modified_time"]) for row in rows] == [
        (changed["id"], changed["last_modified_time"])]


def test_bulkfetch_pages(sandbox_factory: Callable[..., SandboxServer]) -> None:
    books = Books(sandbox_factory(pricebooks=5))
    pages = [books.get("/pricebooks/bulkfetch", per_page=2, page=page).json()
             for page in (1, 2, 3)]
    assert [len(page["pricebooks"]) for page in pages] == [2, 2, 1]
    assert [page["page_context"]["has_more_page"] for page in pages] == [True, True, False]
