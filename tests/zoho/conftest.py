"""Fixtures for the Zoho client tests: budgets on every store, clients on the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tds.config import Settings
from tds.db.session import Database
from tds.zoho.ratelimit import RateBudget, make_budget
from tests.conftest import make_settings
from tests.sandbox.conftest import sandbox, sandbox_factory  # noqa: F401

BudgetFactory = Callable[..., RateBudget]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("redis", marks=pytest.mark.redis)])
def budget_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BudgetFactory]:
    """Build budgets on one store; each test gets an organization of its own."""
    store = request.param
    url = request.getfixturevalue("postgres_url" if store == "postgres" else "sqlite_url")
    database = Database(url)
    client = redis.Redis.from_url(request.getfixturevalue("redis_url")) \
        if store == "redis" else None
    organization_id = uuid.uuid4().hex[:16]

    def build(**overrides: Any) -> RateBudget:
        settings = make_settings(url, tmp_path, zoho_organization_id=organization_id,
                                 **overrides)
        return make_budget(settings, database, client)

    yield build
    database.dispose()
    if client is not None:
        client.close()


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def coordination(request: pytest.FixtureRequest) -> str | None:
    """Where locks and budgets live: the database (None) or a Redis URL."""
    return str(request.getfixturevalue("redis_url")) if request.param == "redis" else None


@pytest.fixture
def zoho_sandbox(request: pytest.FixtureRequest) -> Any:
    """A sandbox with an organization of its own, so no budget is shared between tests."""
    return request.getfixturevalue("sandbox_factory")(organization_id=str(uuid.uuid4().int)[:11])


def sandbox_settings(base: Settings, server: Any, redis_url: str | None = None,
                     **overrides: Any) -> Settings:
    """Settings pointing at sandbox `server` with its credentials; the budget does not pace."""
    config = server.config
    values: dict[str, Any] = {
        "zoho_client_id": config.client_id, "zoho_client_secret": config.client_secret,
        "zoho_refresh_token": config.refresh_token,
        "zoho_organization_id": config.organization_id,
        "zoho_accounts_url": server.accounts_url, "zoho_api_base_url": server.api_base_url,
        "zoho_rate_limit_per_min": 1_000_000, "zoho_daily_limit": 1_000_000,
        "zoho_timeout_seconds": 10.0, "redis_url": redis_url,
    }
    return base.with_overrides(**{**values, **overrides})
