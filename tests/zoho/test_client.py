"""The client against the sandbox over real HTTP: retries, pagination, errors."""

from __future__ import annotations

import inspect
import json
import tracemalloc
from typing import Any

import pytest

from tds.config import Settings
from tds.db.session import Database
from tds.pages import SourcePage
from tds.retry import is_transient
from tds.zoho import (
    UnifiedZohoClient,
    ZohoAPIError,
    ZohoNotFoundError,
    ZohoServerError,
    ZohoValidationError,
)
from tests.fixtures.zoho import sandbox_settings


def test_calls_carry_the_organization(settings: Settings, database: Database,
                                      own_sandbox: Any) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, own_sandbox), database)
    assert client.get("/items")["code"] == 0  # the sandbox refuses calls without it


def test_server_errors_are_retried_up_to_max_attempts(settings: Settings, database: Database,
                                                     own_sandbox: Any) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, own_sandbox, zoho_max_attempts=3),
                               database)
    client.get("/items")
    own_sandbox.admin.set_faults(error_rate=1.0)
    with pytest.raises(ZohoServerError) as raised:
        client.get("/items")
    assert is_transient(raised.value)
    assert raised.value.code == 1000
    assert own_sandbox.admin.stats()["status"]["500"] == 3


def test_transient_server_errors_are_ridden_out(settings: Settings, database: Database,
                                                own_sandbox: Any) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, own_sandbox, zoho_max_attempts=20),
                               database)
    own_sandbox.admin.set_faults(error_rate=0.5)
    for _ in range(20):
        assert client.get("/items")["code"] == 0
    assert own_sandbox.admin.stats()["status"]["500"] > 0


@pytest.mark.parametrize(("method", "path", "params", "status", "error"), [
    ("GET", "/items/0000", {}, 404, ZohoNotFoundError),  # code 1002: the record is gone
    ("GET", "/bad", {}, 404, ZohoValidationError),  # code 5 "Invalid URL Passed": a wrong path
    ("GET", "/items", {"sort_order": "X"}, 400, ZohoValidationError),
    ("DELETE", "/items", {}, 405, ZohoValidationError),
    ("POST", "/salesorders", {}, 400, ZohoValidationError),  # customer_id missing
])
def test_client_errors_are_not_retried(settings: Settings, database: Database,
                                       own_sandbox: Any, method: str, path: str,
                                       params: dict[str, str], status: int,
                                       error: type[ZohoAPIError]) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, own_sandbox), database)
    with pytest.raises(error) as raised:
        client.request(method, path, params=params, json={} if method == "POST" else None)
    assert type(raised.value) is error
    assert raised.value.http_status == status
    assert not is_transient(raised.value)
    stats = own_sandbox.admin.stats()
    assert stats["requests"] == 1
    assert stats["status"] == {str(status): 1}


def test_pagination_streams_ten_thousand_records_in_flat_memory(
        settings: Settings, database: Database, sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(items=10_000)
    client = UnifiedZohoClient(sandbox_settings(settings, sandbox), database)
    assert inspect.isgeneratorfunction(UnifiedZohoClient.paginated_fetch)
    pages = client.paginated_fetch("/items", "items")
    sizes = [len(next(pages))]  # warms up connections, caches and the token
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        sizes.append(len(next(pages)))
        one_page = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.reset_peak()
        sizes.extend(len(page) for page in pages)
        rest = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert sum(sizes) == 10_000
    assert len(sizes) == 50
    # 48 more pages cost about what one page does: nothing accumulates.
    assert rest < 2 * one_page


def test_each_page_keeps_the_text_its_records_were_decoded_from(
        settings: Settings, database: Database, sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(items=450)
    client = UnifiedZohoClient(sandbox_settings(settings, sandbox), database)
    pages = list(client.paginated_fetch("/items", "items"))
    assert [len(page) for page in pages] == [200, 200, 50]
    for page in pages:
        assert isinstance(page, SourcePage)
        assert page.list_key == "items"
        assert json.loads(page.text)["items"] == list(page)


def test_connection_check_passes_with_good_settings(settings: Settings, database: Database,
                                                     own_sandbox: Any) -> None:
    result = UnifiedZohoClient(sandbox_settings(settings, own_sandbox), database) \
        .test_connection()
    assert result.ok
    assert result.problem is None
    assert own_sandbox.config.organization_id in result.organizations


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"zoho_refresh_token": "1000.revoked"}, "refresh_token"),
    ({"zoho_client_id": "1000.OTHERCLIENT"}, "client"),
    ({"zoho_organization_id": "999"}, "organization"),
    ({"zoho_accounts_url": "http://127.0.0.1:9"}, "network"),
])
def test_connection_check_names_the_problem(settings: Settings, database: Database,
                                            own_sandbox: Any, overrides: dict[str, str],
                                            problem: str) -> None:
    zoho = sandbox_settings(settings, own_sandbox, zoho_max_attempts=1, **overrides)
    result = UnifiedZohoClient(zoho, database).test_connection()
    assert not result.ok
    assert result.problem == problem
    assert result.message
