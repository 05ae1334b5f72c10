"""Four processes hammering one organization stay inside Zoho's limit; 429s back off."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from typing import Any

import pytest

from tds.config import Settings
from tds.db.session import Database
from tds.zoho import UnifiedZohoClient
from tests.zoho.conftest import sandbox_settings

FORK = multiprocessing.get_context("fork")
LIMIT, TIME_FACTOR = 10, 60  # 10 calls per 1-second window
CALLS_PER_PROCESS = 8


def hammer(settings: Settings) -> None:
    """A worker process: back-to-back calls, paced only by the shared budget."""
    database = Database(settings.database_url)
    client = UnifiedZohoClient(settings, database)
    for _ in range(CALLS_PER_PROCESS):
        client.get("/items", {"per_page": 1})
    database.dispose()


@pytest.mark.slow
def test_four_processes_never_exceed_the_shared_budget(
        settings: Settings, database: Database, sandbox_factory: Any,
        coordination: str | None) -> None:
    sandbox = sandbox_factory(rate_limit_per_min=LIMIT, time_factor=TIME_FACTOR,
                              organization_id=str(uuid.uuid4().int)[:11])
    zoho = sandbox_settings(settings, sandbox, coordination,
                            zoho_rate_limit_per_min=LIMIT * TIME_FACTOR,
                            zoho_budget_wait_seconds=30)
    UnifiedZohoClient(zoho, database).auth.token()  # one grant up front, not under test here
    workers = [FORK.Process(target=hammer, args=(zoho,)) for _ in range(4)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    elapsed = time.monotonic() - started
    stats = sandbox.admin.stats()
    calls = 4 * CALLS_PER_PROCESS
    assert stats["status"].get("429", 0) == 0
    assert stats["requests"] == calls
    assert (calls - 1) / elapsed <= LIMIT * TIME_FACTOR / 60


def test_a_429_backs_off_then_succeeds(settings: Settings, database: Database,
                                       sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(rate_limit_per_min=2, time_factor=120,
                              organization_id=str(uuid.uuid4().int)[:11])
    # Our budget is told nothing of the sandbox's limit, so Zoho's 429 is what paces
    # us here; real (short, jittered) backoff sleeps are on for this one test.
    zoho = sandbox_settings(settings, sandbox, zoho_max_attempts=8, testing=False)
    client = UnifiedZohoClient(zoho, database)
    for _ in range(3):
        assert client.get("/items")["code"] == 0
    assert sandbox.admin.stats()["status"]["429"] >= 1
