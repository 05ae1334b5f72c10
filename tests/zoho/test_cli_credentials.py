"""`tds config test-credentials` against the sandbox: a verdict, and exit 1 when not ok."""

from __future__ import annotations

from typing import Any

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


def test_a_wrong_refresh_token_is_a_credentials_problem(settings: Settings, database: Database,
                                                        own_sandbox: Any) -> None:
    zoho = sandbox_settings(settings, own_sandbox, zoho_refresh_token="1000.wrong")
    result = CliRunner().invoke(main, ["config", "test-credentials"], obj=zoho)
    assert result.exit_code == 1, result.output
    assert "Zoho credentials: PROBLEM (credentials)" in result.stdout
    assert "invalid_code" in result.stdout
    assert "What to do: Check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN" \
        in result.stdout
    stats = own_sandbox.admin.stats()
    assert (stats["token_refusals"], stats["requests"]) == (1, 0)
