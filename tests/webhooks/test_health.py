"""`/healthz` answers while the process lives; `/readyz` checks the database and broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tds.config import Settings
from tests.fixtures.services import make_settings
from webhooks_app import create_app


def test_healthz_answers(settings: Settings) -> None:
    assert create_app(settings).test_client().get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_ready_with_a_reachable_database_and_broker(settings: Settings) -> None:
    answer = create_app(settings).test_client().get("/readyz")
    body = answer.get_json()
    assert answer.status_code == 200
    assert body["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.redis
def test_readyz_is_ready_on_postgres_and_redis(postgres_url: str, redis_url: str,
                                               tmp_path: Path) -> None:
    settings = make_settings(postgres_url, tmp_path, broker_url=redis_url)
    assert create_app(settings).test_client().get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_points_nowhere(tmp_path: Path) -> None:
    settings = make_settings("postgresql+psycopg2://nobody@127.0.0.1:1/none", tmp_path)
    answer = create_app(settings).test_client().get("/readyz")
    body = answer.get_json()
    assert answer.status_code == 503
    assert body["checks"] == {"database": "unreachable", "broker": "ok"}
    assert "DATABASE_URL" in body["message"]
    assert "127.0.0.1" not in answer.get_data(as_text=True)  # details go to the log only


def test_readyz_is_503_when_the_broker_points_nowhere(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, broker_url="redis://127.0.0.1:1/0")
    answer = create_app(settings).test_client().get("/readyz")
    body = answer.get_json()
    assert answer.status_code == 503
    assert body["checks"] == {"database": "ok", "broker": "unreachable"}
