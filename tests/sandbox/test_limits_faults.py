"""Rate limits, the daily quota and injected faults."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tds.sandbox import SandboxServer
from tests.fixtures.sandbox import Books


def test_per_minute_limit_answers_429_with_headers(
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(rate_limit_per_min=5)
    books = Books(server)
    statuses = [books.get("/items").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    refused = books.get("/items")
    assert refused.json()["code"] == 44
    assert "Retry-After" not in refused.headers
    assert refused.headers["X-Rate-Limit-Limit"] == "10000"
    assert refused.headers["X-Rate-Limit-Remaining"] == str(10000 - 5)
    assert int(refused.headers["X-Rate-Limit-Reset"]) > 0
    assert server.admin.stats()["rate_limited"] == 3


def test_retry_after_is_configurable(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(rate_limit_per_min=1, retry_after_seconds=7)
    books = Books(server)
    books.get("/items")
    assert books.get("/items").headers["Retry-After"] == "7"


def test_daily_quota_answers_code_45(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(daily_limit=3)
    books = Books(server)
    remaining = [books.get("/items").headers["X-Rate-Limit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = books.get("/items")
    assert (refused.status_code, refused.json()) == (429, {
        "code": 45, "message": "You have reached the maximum number of API calls for the day."})


def test_error_rate_answers_some_500s(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(error_rate=0.5)
    books = Books(server)
    answers = [books.get("/items") for _ in range(40)]
    failed = [answer for answer in answers if answer.status_code == 500]
    assert 5 <= len(failed) <= 35
    assert failed[0].json() == {"code": 1000, "message": "Internal error"}
    assert server.admin.stats()["server_errors"] == len(failed)


def test_faults_can_be_set_live(books: Books, sandbox: SandboxServer) -> None:
    settings = sandbox.admin.set_faults(error_rate=1.0, latency_ms=5)
    assert (settings["error_rate"], settings["latency_ms"]) == (1.0, 5)
    assert books.get("/items").status_code == 500
    sandbox.admin.set_faults(error_rate=0.0, latency_ms=0)
    assert books.get("/items").status_code == 200


def test_drop_rate_closes_the_connection(books: Books, sandbox: SandboxServer) -> None:
    sandbox.admin.set_faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        books.get("/items")
    assert sandbox.admin.stats()["dropped"] == 1


def test_bad_fault_values_are_refused(sandbox: SandboxServer) -> None:
    answer = requests.post(f"{sandbox.base_url}/__admin/faults", json={"error_rate": 2},
                           timeout=10)
    assert answer.status_code == 400


def test_stats_count_endpoints_and_reset(books: Books, sandbox: SandboxServer) -> None:
    books.get("/items")
    stats = sandbox.admin.stats()
    assert stats["endpoints"]["GET /books/v3/items"] == 1
    assert stats["token_grants"] == 1
    sandbox.admin.reset_stats()
    assert sandbox.admin.stats()["requests"] == 0


def test_stats_count_api_answers_by_status(books: Books, sandbox: SandboxServer) -> None:
    assert sandbox.admin.stats()["status"] == {}  # always present, empty at first
    books.get("/items")
    books.get("/items/0000")
    books.call("GET", "/items", headers={"Authorization": "Zoho-oauthtoken wrong"})
    books.fresh_token()
    sandbox.admin.set_faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        books.get("/items")
    stats = sandbox.admin.stats()
    # API calls only; token requests are counted apart; a dropped call got no status.
    assert stats["status"] == {"200": 1, "404": 1, "401": 1}
    assert stats["requests"] == 4
    assert stats["token_requests"] == 2
    assert stats["server_errors"] == 0


def test_quota_headers_track_the_daily_quota(
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(daily_limit=100, time_factor=60)
    books = Books(server)
    first, second = books.get("/items"), books.get("/items")
    assert [answer.headers["X-Rate-Limit-Remaining"] for answer in (first, second)] == [
        "99", "98"]
    assert second.headers["X-Rate-Limit-Limit"] == "100"
    assert 0 < int(second.headers["X-Rate-Limit-Reset"]) <= 86400 / 60
    refused = books.call("GET", "/items", headers={"Authorization": "Zoho-oauthtoken x"})
    assert refused.status_code == 401
    assert refused.headers["X-Rate-Limit-Remaining"] == "98"  # a refused call is not counted
