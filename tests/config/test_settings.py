"""Settings come from the environment; a bad value names its variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tds.config import ConfigError, load_settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"TDS_VAR_DIR": str(tmp_path), **values}


def test_the_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.database_url == f"sqlite:///{tmp_path}/tds.sqlite3"
    assert settings.broker_url == "filesystem://"
    assert settings.redis_url is None
    assert settings.uses_sandbox
    assert settings.zoho_api_base_url == "http://127.0.0.1:8090/books/v3"
    assert settings.generated == ("TDS_WEBHOOK_SECRET", "TDS_API_KEYS")


def test_generated_dev_secrets_are_stable_across_processes(tmp_path: Path) -> None:
    first, second = load_settings(env(tmp_path)), load_settings(env(tmp_path))
    assert first.webhook_secrets == second.webhook_secrets
    assert first.api_keys == second.api_keys


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://nowhere/db"),
        ("CELERY_BROKER_URL", "kafka://x"),
        ("REDIS_URL", "http://127.0.0.1"),
        ("ZOHO_DC", "mars"),
        ("ZOHO_RATE_LIMIT_PER_MIN", "fast"),
        ("ZOHO_RATE_LIMIT_PER_MIN", "0"),
        ("ZOHO_TIMEOUT_SECONDS", "-1"),
        ("TDS_WEBHOOK_MAX_BYTES", "1e6"),
        ("TDS_TESTING", "maybe"),
        ("TDS_ENV", "staging"),
        ("ZOHO_ACCOUNTS_URL", "accounts.zoho.com"),
        ("TDS_STALE_AFTER_SECONDS", "0"),
        ("TDS_INVENTORY_STALE_AFTER_SECONDS", "half an hour"),
        ("TDS_STALLED_AFTER_SECONDS", "-5"),
    ],
)
def test_a_malformed_value_names_its_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(env(tmp_path, **{variable: value}))


def test_incomplete_zoho_credentials_say_which_are_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ZOHO_REFRESH_TOKEN, ZOHO_ORGANIZATION_ID"):
        load_settings(env(tmp_path, ZOHO_CLIENT_ID="a", ZOHO_CLIENT_SECRET="b"))


def test_real_credentials_use_the_data_centre(tmp_path: Path) -> None:
    settings = load_settings(env(
        tmp_path, ZOHO_CLIENT_ID="id", ZOHO_CLIENT_SECRET="s", ZOHO_REFRESH_TOKEN="r",
        ZOHO_ORGANIZATION_ID="1", ZOHO_DC="ca",
    ))
    assert not settings.uses_sandbox
    assert settings.zoho_accounts_url == "https://accounts.zohocloud.ca"
    assert settings.zoho_api_base_url == "https://www.zohoapis.ca/books/v3"


def test_production_requires_real_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TDS_WEBHOOK_SECRET"):
        load_settings(env(tmp_path, TDS_ENV="production"))


def test_masked_hides_every_secret(tmp_path: Path) -> None:
    settings = load_settings(env(
        tmp_path, TDS_WEBHOOK_SECRET="s3cr3tvalue1,s3cr3tvalue2", TDS_API_KEYS="key1",
        DATABASE_URL="postgresql://tds:hunter2@db/tds",
    ))
    shown = str(settings.masked())
    for secret in ("s3cr3tvalue1", "s3cr3tvalue2", "key1", "hunter2", "sandbox-secret"):
        assert secret not in shown


def test_importing_the_apps_reads_no_environment_and_writes_no_file(tmp_path: Path) -> None:
    # Nothing happens at import: only a factory given settings builds anything.
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(root), "HOME": str(tmp_path),
           "DATABASE_URL": "this is not a URL"}  # read at import, it would raise
    script = "import celeryconfig, workers.app, workers.tasks, webhooks_app, tds.cli"
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True,
                   timeout=60)
    assert list(tmp_path.iterdir()) == []


def test_every_module_imports_first_without_a_cycle() -> None:
    # Each module imported first, alone: an import cycle hides when a test happened to
    # import its other half earlier.
    script = """
import importlib, pkgutil, sys
import tds, workers, webhooks_app
names = [m.name for package in (tds, workers, webhooks_app)
         for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
         if ".migrations" not in m.name and not m.name.endswith("__main__")
         and m.name != "workers.make_celery"]
ours = ("tds", "workers", "webhooks_app", "celeryconfig")
for name in names:
    for loaded in [n for n in sys.modules if n.split(".")[0] in ours]:
        del sys.modules[loaded]
    importlib.import_module(name)
print(len(names))
"""
    root = Path(__file__).resolve().parents[2]
    answer = subprocess.run([sys.executable, "-c", script], cwd=root, check=True,
                            capture_output=True, text=True, timeout=120)
    assert int(answer.stdout) > 40


def test_health_thresholds_are_read(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, TDS_STALE_AFTER_SECONDS="600",
                                 TDS_INVENTORY_STALE_AFTER_SECONDS="120",
                                 TDS_STALLED_AFTER_SECONDS="90"))
    assert (settings.stale_after_seconds, settings.inventory_stale_after_seconds,
            settings.stalled_after_seconds) == (600, 120, 90)
    defaults = load_settings(env(tmp_path))
    assert (defaults.stale_after_seconds, defaults.inventory_stale_after_seconds,
            defaults.stalled_after_seconds) == (7200, 1800, 1800)
