"""Long passes live within Zoho's limits and through its faults: `tds sync` finishes,
with exact data, what a minute's budget, the token window and an unreliable Zoho
throw at it (the sandbox's clock runs fast: its minute and windows are short)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from tds.cli import main
from tds.config import Settings
from tds.db.models import Product, SyncQueueItem
from tds.db.session import Database
from tds.mapping import parse_zoho_time
from tds.sandbox import SandboxServer
from tests.fixtures.zoho import sandbox_settings


def sync(settings: Settings, *args: str) -> Result:
    result = CliRunner().invoke(main, ["sync", *args], obj=settings)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def products_match(database: Database, sandbox: SandboxServer) -> bool:
    with database.session() as session:
        stored = dict(session.execute(select(Product.zoho_id, Product.last_modified_time)
                                      .where(Product.deleted_at.is_(None))).all())
    expected = {key: parse_zoho_time(value)
                for key, value in sandbox.admin.records("items").items()}
    return stored == expected


def passes_run(database: Database) -> list[tuple[str, int]]:
    with database.session() as session:
        return [(row.status, row.attempts) for row in session.scalars(
            select(SyncQueueItem).where(SyncQueueItem.kind == "pass"))]


def zoho_for(settings: Settings, sandbox: SandboxServer, **overrides: Any) -> Settings:
    return sandbox_settings(settings, sandbox, **overrides)


def test_a_minute_limit_of_two_is_waited_out_with_no_failed_pass(
        database: Database, settings: Settings,
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    sandbox = sandbox_factory(items=450, rate_limit_per_min=2, time_factor=30,
                              retry_after_window=True)
    result = sync(zoho_for(settings, sandbox), "products", "--full")
    assert "450 records read in 3 pages" in result.output
    assert "waiting" in result.stderr  # said, not silent
    assert products_match(database, sandbox)
    assert passes_run(database) == [("completed", 1)]
    assert sandbox.admin.stats()["rate_limited"] > 0


def test_a_throttled_token_endpoint_is_waited_out(
        database: Database, settings: Settings,
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    # One grant per (600 / 120 =) 5 s window, tokens living 1 s: the pass needs a new
    # token while Zoho refuses to grant one, and waits for the window.
    sandbox = sandbox_factory(items=450, token_requests_per_10min=1, time_factor=120,
                              token_ttl=1, latency_ms=400)
    zoho = zoho_for(settings, sandbox, zoho_token_refresh_margin_seconds=0,
                    zoho_token_window_seconds=5.0)
    result = sync(zoho, "products", "--full")
    assert "grants no new access token" in result.stderr
    assert products_match(database, sandbox)
    stats = sandbox.admin.stats()
    assert stats["token_denials"] >= 1
    assert stats["token_grants"] >= 2


@pytest.mark.slow
def test_ten_thousand_items_through_faults_arrive_exact(
        database: Database, settings: Settings,
        sandbox_factory: Callable[..., SandboxServer]) -> None:
    # 30% 5xx, dropped connections, tokens expiring every 3 s, a small minute budget.
    sandbox = sandbox_factory(items=10_000, error_rate=0.3, drop_rate=0.1, token_ttl=3,
                              rate_limit_per_min=40, time_factor=30, retry_after_window=True)
    zoho = zoho_for(settings, sandbox, zoho_token_refresh_margin_seconds=1,
                    zoho_timeout_seconds=5.0)
    result = sync(zoho, "products", "--full")
    assert "10000 records read" in result.output
    assert products_match(database, sandbox)
    [(status, _)] = passes_run(database)
    assert status == "completed"
    stats = sandbox.admin.stats()
    assert stats["server_errors"] > 0
    assert stats["dropped"] > 0
    assert stats["token_grants"] > 1
