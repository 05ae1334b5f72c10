"""Sales order creates: numbering, duplicate references, the reference filter."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tds.sandbox import SandboxServer
from tests.fixtures.sandbox import Books


def order(books: Books, **fields: Any) -> dict[str, Any]:
    customer = books.get("/contacts", contact_type="customer").json()["contacts"][0]
    item = books.get("/items").json()["items"][0]
    return {"customer_id": customer["contact_id"],
            "line_items": [{"item_id": item["item_id"], "rate": 10.0, "quantity": 3}], **fields}


def test_salesorder_create_and_reference_lookup(books: Books) -> None:
    body = order(books, reference_number="WEB-1001")
    created = books.call("POST", "/salesorders", data={"JSONString": json.dumps(body)})
    assert created.status_code == 201
    assert created.json()["message"] == "Sales Order Created Successfully."
    salesorder = created.json()["salesorder"]
    assert salesorder["total"] == 30.0
    assert salesorder["salesorder_id"].isdigit()
    for params in ({"reference_number": "WEB-1001"}, {"search_text": "web-1001"}):
        found = books.get("/salesorders", **params).json()["salesorders"]
        assert [so["salesorder_id"] for so in found] == [salesorder["salesorder_id"]]


def test_reference_filter_matches_exactly(books: Books) -> None:
    books.call("POST", "/salesorders", json=order(books, reference_number="WEB-10"))
    books.call("POST", "/salesorders", json=order(books, reference_number="WEB-100"))
    found = books.get("/salesorders", reference_number="WEB-10").json()["salesorders"]
    assert [so["reference_number"] for so in found] == ["WEB-10"]


def test_duplicate_references_are_accepted(books: Books) -> None:
    first, second = (books.call("POST", "/salesorders", json=order(books, reference_number="R-7"))
                     for _ in range(2))
    assert (first.status_code, second.status_code) == (201, 201)
    ids = {answer.json()["salesorder"]["salesorder_id"] for answer in (first, second)}
    assert len(ids) == 2
    found = books.get("/salesorders", reference_number="R-7").json()["salesorders"]
    assert {so["salesorder_id"] for so in found} == ids


def test_creates_are_numbered_after_the_generated_orders(
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    books = Books(sandbox_factory(salesorders=3))
    listed = books.get("/salesorders").json()["salesorders"]
    assert sorted(so["salesorder_number"] for so in listed) == ["SO-00001", "SO-00002",
                                                                "SO-00003"]
    numbers = [books.call("POST", "/salesorders", json=order(
        books, salesorder_number="MINE-1")).json()["salesorder"]["salesorder_number"]
               for _ in range(2)]
    assert numbers == ["SO-00004", "SO-00005"]  # a number in the body is not used


def test_own_numbers_with_ignore_auto_number_generation(books: Books) -> None:
    created = books.call("POST", "/salesorders", {"ignore_auto_number_generation": "true"},
                         json=order(books, salesorder_number="WEB-SO-42"))
    assert created.status_code == 201
    assert created.json()["salesorder"]["salesorder_number"] == "WEB-SO-42"
    unnumbered = books.call("POST", "/salesorders", {"ignore_auto_number_generation": "true"},
                            json=order(books))
    assert (unnumbered.status_code, unnumbered.json()) == (
        400, {"code": 4, "message": "Invalid value passed for salesorder_number"})
    # Own numbers do not use up the series.
    next_auto = books.call("POST", "/salesorders", json=order(books)).json()["salesorder"]
    assert next_auto["salesorder_number"] == "SO-00011"  # after the 10 generated ones


def test_salesorder_requires_customer(books: Books) -> None:
    answer = books.call("POST", "/salesorders", json={"line_items": []})
    assert answer.status_code == 400
    assert "customer_id" in answer.json()["message"]


def test_an_unknown_item_is_refused(books: Books) -> None:
    body = order(books)
    body["line_items"][0]["item_id"] = "999999"
    answer = books.call("POST", "/salesorders", json=body)
    assert (answer.status_code, answer.json()) == (
        400, {"code": 4, "message": "Invalid value passed for item_id"})


def test_a_create_whose_answer_is_lost_is_stored(books: Books) -> None:
    books.server.admin.set_faults(drop_after_create=1)
    before = len(books.walk("/salesorders", "salesorders"))
    with pytest.raises(requests.ConnectionError):
        books.call("POST", "/salesorders", json=order(books, reference_number="LOST-1"))
    found = books.get("/salesorders", reference_number="LOST-1").json()["salesorders"]
    assert len(found) == 1
    assert len(books.walk("/salesorders", "salesorders")) == before + 1
    assert books.server.admin.stats()["create_answers_lost"] == 1
    again = books.call("POST", "/salesorders", json=order(books, reference_number="LOST-2"))
    assert again.status_code == 201  # only the next create lost its answer
