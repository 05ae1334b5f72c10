"""The `tds` command: schema upgrades, the configuration shown with secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import inspect

from tds.cli import main
from tds.db.session import Database
from tests.fixtures.services import TEST_WEBHOOK_SECRET, make_settings


def test_db_upgrade_creates_the_schema_and_is_repeatable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    settings = make_settings(url, tmp_path)
    for _ in range(2):
        result = CliRunner().invoke(main, ["db", "upgrade"], obj=settings)
        assert result.exit_code == 0, result.output
    database = Database(url)
    assert "tds_inbox_events" in inspect(database.engine).get_table_names()
    database.dispose()


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path)
    result = CliRunner().invoke(main, ["config", "show"], obj=settings)
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["webhook_secrets"] == ["****"]
    assert TEST_WEBHOOK_SECRET not in result.output


def test_a_config_error_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config", "show"],
                                env={"TDS_VAR_DIR": str(tmp_path), "ZOHO_DC": "mars"})
    assert result.exit_code == 1
    assert "ZOHO_DC" in result.output
    assert "Traceback" not in result.output


def test_help_explains_every_group() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for group in ("db", "config", "run", "sandbox"):
        assert group in result.output
