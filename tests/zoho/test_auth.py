"""OAuth against the sandbox: one refresh shared by every process, 401 handling."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest
import redis

from tds.config import Settings
from tds.db.session import Database
from tds.retry import is_transient
from tds.zoho import UnifiedZohoClient, ZohoAuthError, ZohoAuthManager, ZohoCredentials
from tests.fixtures.zoho import sandbox_settings

FORK = multiprocessing.get_context("fork")


def manager_for(settings: Settings, database: Database) -> ZohoAuthManager:
    client = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None
    return ZohoAuthManager(ZohoCredentials.from_settings(settings), database, settings,
                           redis_client=client)


def fetch_tokens(settings: Settings, threads: int, barrier: Barrier,
                 results: multiprocessing.SimpleQueue[list[str]]) -> None:
    """A separate process: `threads` callers ask for the token at the same moment."""
    database = Database(settings.database_url)
    manager = manager_for(settings, database)

    def one(_: int) -> str:
        barrier.wait()
        return manager.token().value

    with ThreadPoolExecutor(threads) as pool:
        results.put(list(pool.map(one, range(threads))))
    database.dispose()


def run_callers(settings: Settings, processes: int, threads: int) -> list[str]:
    barrier = FORK.Barrier(processes * threads)
    results: multiprocessing.SimpleQueue[list[str]] = FORK.SimpleQueue()
    workers = [FORK.Process(target=fetch_tokens, args=(settings, threads, barrier, results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    return [token for _ in workers for token in results.get()]


def test_two_processes_share_one_refresh(settings: Settings, database: Database,
                                         own_sandbox: Any, coordination: str | None) -> None:
    zoho = sandbox_settings(settings, own_sandbox, coordination)
    first = run_callers(zoho, processes=1, threads=1)
    second = run_callers(zoho, processes=1, threads=1)
    assert first == second
    assert own_sandbox.admin.stats()["token_grants"] == 1


def test_a_stampede_of_twenty_callers_refreshes_once(
        settings: Settings, database: Database, own_sandbox: Any,
        coordination: str | None) -> None:
    zoho = sandbox_settings(settings, own_sandbox, coordination)
    tokens = run_callers(zoho, processes=4, threads=5)
    assert len(tokens) == 20
    assert len(set(tokens)) == 1
    assert own_sandbox.admin.stats()["token_grants"] == 1


def test_threads_of_one_process_share_the_token(settings: Settings, database: Database,
                                                own_sandbox: Any) -> None:
    manager = manager_for(sandbox_settings(settings, own_sandbox), database)
    start = threading.Barrier(20)

    def one(_: int) -> str:
        start.wait()
        return manager.token().value

    with ThreadPoolExecutor(20) as pool:
        assert len(set(pool.map(one, range(20)))) == 1
    assert manager.refreshes == 1


def test_a_token_near_expiry_is_renewed(settings: Settings, database: Database,
                                        sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(token_ttl=100)
    manager = manager_for(sandbox_settings(settings, sandbox,
                                           zoho_token_refresh_margin_seconds=300), database)
    first = manager.token()
    assert manager.token() != first  # inside the margin: renewed, not reused
    assert sandbox.admin.stats()["token_grants"] == 2


def test_a_401_refreshes_once_and_resends(settings: Settings, database: Database,
                                          own_sandbox: Any) -> None:
    client = UnifiedZohoClient(sandbox_settings(settings, own_sandbox), database)
    client.get("/items")
    own_sandbox.admin.set_faults(expire_tokens=True)
    assert client.get("/items")["code"] == 0
    stats = own_sandbox.admin.stats()
    assert stats["token_grants"] == 2
    assert stats["status"]["401"] == 1


def test_invalid_code_is_an_auth_error_never_retried(settings: Settings, database: Database,
                                                     own_sandbox: Any) -> None:
    zoho = sandbox_settings(settings, own_sandbox, zoho_refresh_token="1000.revoked")
    client = UnifiedZohoClient(zoho, database)
    with pytest.raises(ZohoAuthError) as raised:
        client.get("/items")
    assert not is_transient(raised.value)
    assert raised.value.code == "invalid_code"
    assert "20 refresh tokens" in str(raised.value)
    assert own_sandbox.admin.stats()["token_requests"] == 1


def test_a_refused_token_is_only_dropped_while_current(settings: Settings, database: Database,
                                                       own_sandbox: Any) -> None:
    manager = manager_for(sandbox_settings(settings, own_sandbox), database)
    current = manager.token()
    manager.invalidate("an-older-token")
    assert manager.token() == current
    assert own_sandbox.admin.stats()["token_grants"] == 1
