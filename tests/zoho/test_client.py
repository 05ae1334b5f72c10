"""The client against the sandbox over real HTTP: retries, pagination, errors."""

from __future__ import annotations

import inspect
import tracemalloc
from typing import Any

import pytest

from tds.config import Settings
from tds.db.session import Database
from tds.zoho import (
    UnifiedZohoClient,
    ZohoNotFoundError,
    ZohoServerError,
    ZohoValidationError,
)
from tests.zoho.conftest import sandbox_settings


def test_calls_carry_the_organization(settings: Settings, database: Database,
                                      zoho_sandbox: Any) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, zoho_sandbox), database)
    assert client.get("/items")["code"] == 0  # the sandbox refuses calls without it


def test_server_errors_are_retried_up_to_max_attempts(settings: Settings, database: Database,
                                                     zoho_sandbox: Any) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, zoho_sandbox, zoho_max_attempts=3),
                               database)
    client.get("/items")
    zoho_sandbox.admin.set_faults(error_rate=1.0)
    with pytest.raises(ZohoServerError) as raised:
        client.get("/items")
    assert raised.value.retryable
    assert raised.value.code == 1000
    assert zoho_sandbox.admin.stats()["status"]["500"] == 3


def test_transient_server_errors_are_ridden_out(settings: Settings, database: Database,
                                                zoho_sandbox: Any) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, zoho_sandbox, zoho_max_attempts=20),
                               database)
    zoho_sandbox.admin.set_faults(error_rate=0.5)
    for _ in range(20):
        assert client.get("/items")["code"] == 0
    assert zoho_sandbox.admin.stats()["status"]["500"] > 0


@pytest.mark.parametrize(("method", "path", "error"), [
    ("GET", "/items/0000", ZohoNotFoundError),
    ("GET", "/bad", ZohoValidationError),
])
def test_client_errors_are_not_retried(settings: Settings, database: Database,
                                       zoho_sandbox: Any, method: str, path: str,
                                       error: type[Exception]) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, zoho_sandbox), database)
    with pytest.raises(error):
        client.request(method, path)
    assert zoho_sandbox.admin.stats()["requests"] == 1


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


def test_connection_check_passes_with_good_settings(settings: Settings, database: Database,
                                                     zoho_sandbox: Any) -> None:
    result = UnifiedZohoClient(sandbox_settings(settings, zoho_sandbox), database) \
        .test_connection()
    assert result.ok
    assert result.problem is None
    assert zoho_sandbox.config.organization_id in result.organizations


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"zoho_refresh_token": "1000.revoked"}, "credentials"),
    ({"zoho_organization_id": "999"}, "organization"),
    ({"zoho_accounts_url": "http://127.0.0.1:9"}, "network"),
])
def test_connection_check_names_the_problem(settings: Settings, database: Database,
                                            zoho_sandbox: Any, overrides: dict[str, str],
                                            problem: str) -> None:
    zoho = sandbox_settings(settings, zoho_sandbox, zoho_max_attempts=1, **overrides)
    result = UnifiedZohoClient(zoho, database).test_connection()
    assert not result.ok
    assert result.problem == problem
    assert result.message
