"""What the benchmarks share: a scratch Postgres database for one run (created,
migrated, dropped), the environment of TDS processes on it and a sandbox, a
checkpoint between phases, stopping a child's process group, and percentiles."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tds.db import migrate

ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database named `prefix_<random>`; drop it after."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stack_env(database_url: str, redis_url: str, sandbox_url: str,
              **extra: str) -> dict[str, str]:
    """The environment of TDS processes (receiver, worker) on `database_url`, a Redis
    broker and budget at `redis_url` and the sandbox at `sandbox_url` with its demo
    credentials, its limits never reached; `extra` adds or overrides variables."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("TDS_", "ZOHO_"))},
            "DATABASE_URL": database_url, "CELERY_BROKER_URL": redis_url,
            "REDIS_URL": redis_url, "TDS_ENV": "test", "TDS_LOG_LEVEL": "WARNING",
            "ZOHO_CLIENT_ID": "1000.SANDBOXCLIENT", "ZOHO_CLIENT_SECRET": "sandbox-secret",
            "ZOHO_REFRESH_TOKEN": "1000.sandbox.refresh", "ZOHO_ORGANIZATION_ID": "10234695",
            "ZOHO_ACCOUNTS_URL": sandbox_url, "ZOHO_API_BASE_URL": f"{sandbox_url}/books/v3",
            "ZOHO_RATE_LIMIT_PER_MIN": "1000000", "ZOHO_DAILY_LIMIT": "100000000", **extra}


def checkpoint(url: str) -> None:
    """Write every dirty buffer out now, so a timed phase does not pay for the last
    one's writes (flushed by a checkpoint in the middle of it). Needs a superuser
    or pg_checkpoint; skipped with a note without."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CHECKPOINT")
    except DBAPIError as error:
        print(f"(no CHECKPOINT before a timed phase: {str(error.orig).strip()})")
    finally:
        engine.dispose()


def stop_group(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the process group of `process` (started with a session of its own);
    SIGKILL it if it has not exited within `timeout` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (0.0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0
