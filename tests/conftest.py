"""Shared fixtures: real SQLite, Postgres and Redis, each run isolated.

Postgres gets a fresh database per test run (created from the `test`
database, migrated, dropped at the end); Redis gets a database number of
its own. When a service is unreachable its tests are skipped, unless
TDS_REQUIRE_SERVICES=1 (CI), where they fail loudly instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tds.config import Settings
from tds.db import migrate
from tds.db.models import Base
from tds.db.session import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "TDS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS_BASE_URL = os.environ.get("TDS_TEST_REDIS_URL", "redis://127.0.0.1:6379")
REQUIRE_SERVICES = os.environ.get("TDS_REQUIRE_SERVICES") == "1"
TEST_WEBHOOK_SECRET = "testsecret0123456789"
TEST_API_KEY = "tds_test_key"


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is unreachable ({error}); start it or unset TDS_REQUIRE_SERVICES."
    if REQUIRE_SERVICES:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tds.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tds_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any failure means Postgres is not usable
        admin.dispose()
        unavailable("Postgres", error)
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    # One database number per run (1-15) so parallel runs do not share keys.
    url = f"{REDIS_BASE_URL}/{1 + uuid.uuid4().int % 15}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable("Redis", error)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database: each test using it runs on both dialects."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database, emptied after the test."""
    db = Database(database_url)
    yield db
    empty_tables(db)
    db.dispose()


def empty_tables(db: Database) -> None:
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: its database, backoff sleeps off, fixed secrets."""
    return make_settings(database_url, tmp_path)


def make_settings(database_url: str, var_dir: Path, **overrides: object) -> Settings:
    base = Settings(
        env="test",
        var_dir=var_dir,
        database_url=database_url,
        broker_url="memory://",
        webhook_secrets=(TEST_WEBHOOK_SECRET,),
        api_keys=(TEST_API_KEY,),
        testing=True,
        log_json=True,
    )
    return base.with_overrides(**overrides)
