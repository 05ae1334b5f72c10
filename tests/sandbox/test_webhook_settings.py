"""Books' webhook settings API: create, list, get, update, delete, as Zoho documents."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.sandbox import Books

PATH = "/settings/webhooks"


def webhook(**fields: Any) -> dict[str, Any]:
    return {"entity": "invoice", "webhook_name": "tds-invoices", "method": "POST",
            "url": "https://tds.example.com/api/zoho/webhooks/invoices",
            "query_parameters": [{"param_name": "event", "param_value": "deleted"}],
            "secret": "abcdef123456GHIJ", "events": [], **fields}


def test_create_list_get_update_delete(books: Books) -> None:
    created = books.call("POST", PATH, json=webhook())
    assert created.status_code == 201
    assert created.json()["message"] == "Webhook has been created."
    hook = created.json()["webhook"]
    assert "secret" not in hook  # never shown back
    assert hook["query_parameters"] == [{"param_name": "event", "param_value": "deleted"}]
    listed = books.get(PATH).json()
    assert (listed["code"], [row["webhook_id"] for row in listed["webhooks"]]) == (
        0, [hook["webhook_id"]])
    updated = books.call("PUT", f"{PATH}/{hook['webhook_id']}",
                         json=webhook(method="DELETE", query_parameters=[]))
    assert updated.status_code == 200
    assert updated.json()["webhook"]["method"] == "DELETE"
    assert books.get(f"{PATH}/{hook['webhook_id']}").json()["webhook"]["method"] == "DELETE"
    assert books.call("DELETE", f"{PATH}/{hook['webhook_id']}").json() == {
        "code": 0, "message": "Webhook has been deleted."}
    assert books.get(PATH).json()["webhooks"] == []
    gone = books.get(f"{PATH}/{hook['webhook_id']}")
    assert (gone.status_code, gone.json()["code"]) == (404, 1002)


@pytest.mark.parametrize(("field", "value"), [
    ("entity", "pricebook"), ("webhook_name", "x" * 51), ("webhook_name", ""),
    ("method", "PATCH"), ("url", "ftp://example.com"), ("secret", "short1"),
    ("secret", "has-a-dash-1234"), ("secret", "x" * 51), ("query_parameters", [{"a": 1}]),
    ("events", "created"),
])
def test_invalid_webhooks_are_refused(books: Books, field: str, value: Any) -> None:
    answer = books.call("POST", PATH, json=webhook(**{field: value}))
    assert (answer.status_code, answer.json()["code"]) == (400, 4)
    assert field in answer.json()["message"]
    assert books.get(PATH).json()["webhooks"] == []


def test_webhook_settings_need_a_token(books: Books) -> None:
    answer = books.session.get(f"{books.server.api_base_url}{PATH}",
                               params={"organization_id": books.server.config.organization_id},
                               timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (401, 14)
