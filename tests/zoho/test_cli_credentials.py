"""`tds config test-credentials` against the sandbox: a verdict, and exit 1 when not ok."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from tds.cli import main
from tds.config import Settings
from tds.db.session import Database
from tests.fixtures.zoho import sandbox_settings


def test_good_credentials_are_ok(settings: Settings, database: Database,
                                 own_sandbox: Any) -> None:
    result = CliRunner().invoke(main, ["config", "test-credentials"],
                                obj=sandbox_settings(settings, own_sandbox))
    assert result.exit_code == 0, result.output
    assert "Zoho credentials: OK" in result.stdout
    assert f"Organizations: {own_sandbox.config.organization_id}" in result.stdout
    assert own_sandbox.admin.stats()["endpoints"]["GET /books/v3/organizations"] == 1


def test_a_wrong_refresh_token_is_named(settings: Settings, database: Database,
                                        own_sandbox: Any) -> None:
    zoho = sandbox_settings(settings, own_sandbox, zoho_refresh_token="1000.wrong")
    result = CliRunner().invoke(main, ["config", "test-credentials"], obj=zoho)
    assert result.exit_code == 1, result.output
    assert "Zoho credentials: PROBLEM (refresh_token)" in result.stdout
    assert "invalid_code" in result.stdout
    assert ("Parts: network ok, client ok, refresh_token problem, data_centre unchecked, "
            "scope unchecked, organization unchecked") in result.stdout
    assert "What to do: Issue a new refresh token" in result.stdout
    stats = own_sandbox.admin.stats()
    assert (stats["token_refusals"], stats["requests"]) == (1, 0)


@pytest.mark.parametrize(("override", "problem", "remedy"), [
    ({"zoho_client_secret": "wrong"}, "client", "Check ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET"),
    ({"zoho_organization_id": "999"}, "organization", "Set ZOHO_ORGANIZATION_ID"),
    ({"zoho_accounts_url": "http://127.0.0.1:9", "zoho_api_base_url": "http://127.0.0.1:9"},
     "network", "Check the network path"),
])
def test_each_part_is_named(settings: Settings, database: Database, own_sandbox: Any,
                            override: dict[str, str], problem: str, remedy: str) -> None:
    zoho = sandbox_settings(settings, own_sandbox, **override)
    result = CliRunner().invoke(main, ["config", "test-credentials"], obj=zoho)
    assert result.exit_code == 1, result.output
    assert f"Zoho credentials: PROBLEM ({problem})" in result.stdout
    assert f"{problem} problem" in result.stdout
    assert f"What to do: {remedy}" in result.stdout
