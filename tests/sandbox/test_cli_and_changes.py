"""The serve command's interface and the change generator."""

from __future__ import annotations

from click.testing import CliRunner

from tds.config import SANDBOX_CREDENTIALS, SANDBOX_URL
from tds.sandbox import SandboxConfig, SandboxServer
from tds.sandbox.changes import emit_changes
from tds.sandbox.cli import serve
from tds.sandbox.entities import SPECS


def test_serve_help_lists_the_options() -> None:
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    for option in ("--port", "--client-id", "--items", "--rate-limit-per-min", "--daily-limit",
                   "--token-ttl", "--seed", "--webhook-url", "--webhook-secret", "--latency-ms",
                   "--error-rate", "--time-factor", "--changes-per-second",
                   "--changes-duration", "--deleted-webhook", "--action-param",
                   "--webhook-payload", "--stock-moves-stamp", "--no-stock-moves-stamp"):
        assert option in result.output


def test_emit_changes_edits_records(sandbox: SandboxServer) -> None:
    before = {entity: sandbox.admin.records(entity) for entity in SPECS}
    made = emit_changes(sandbox.state.mutator, rate_per_s=1000, duration_s=0.05)
    after = {entity: sandbox.admin.records(entity) for entity in SPECS}
    assert made > 0
    assert before != after


def test_defaults_match_what_tds_config_falls_back_to() -> None:
    defaults = SandboxConfig()
    assert {"zoho_client_id": defaults.client_id, "zoho_client_secret": defaults.client_secret,
            "zoho_refresh_token": defaults.refresh_token,
            "zoho_organization_id": defaults.organization_id} == SANDBOX_CREDENTIALS
    assert f"http://{defaults.host}:{defaults.port}" == SANDBOX_URL
