"""The token endpoint answers like Zoho Accounts, errors as HTTP 200."""

from __future__ import annotations

from collections.abc import Callable

import requests

from tds.sandbox import SandboxServer
from tests.fixtures.sandbox import Books, token_params


def grant(server: SandboxServer, **overrides: str) -> requests.Response:
    return requests.post(f"{server.accounts_url}/oauth/v2/token",
                         params=token_params(server.config, **overrides), timeout=10)


def test_grant_returns_token_and_api_domain(sandbox: SandboxServer) -> None:
    answer = grant(sandbox)
    body = answer.json()
    assert answer.status_code == 200
    assert body["expires_in"] == 3600
    assert body["token_type"] == "Bearer"
    assert body["api_domain"] == sandbox.base_url
    assert body["access_token"]


def test_form_encoded_grant_works(sandbox: SandboxServer) -> None:
    answer = requests.post(f"{sandbox.accounts_url}/oauth/v2/token",
                           data=token_params(sandbox.config), timeout=10)
    assert "access_token" in answer.json()


def test_unknown_refresh_token_is_invalid_code(sandbox: SandboxServer) -> None:
    answer = grant(sandbox, refresh_token="1000.revoked")
    assert (answer.status_code, answer.json()) == (200, {"error": "invalid_code"})


def test_wrong_client_is_invalid_client(sandbox: SandboxServer) -> None:
    answer = grant(sandbox, client_secret="wrong")
    assert (answer.status_code, answer.json()) == (200, {"error": "invalid_client"})


def test_eleventh_grant_in_ten_minutes_is_access_denied(sandbox: SandboxServer) -> None:
    for _ in range(10):
        assert "access_token" in grant(sandbox).json()
    answer = grant(sandbox)
    assert answer.status_code == 200
    assert answer.json() == {
        "error": "Access Denied", "status": "failure",
        "error_description": "You have made too many requests continuously. "
                             "Please try again after some time.",
    }
    assert sandbox.admin.stats()["token_denials"] == 1


def test_expired_token_is_refused(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(token_ttl=0)
    answer = Books(server).get("/items")
    assert answer.status_code == 401
    assert answer.json() == {"code": 57,
                             "message": "You are not authorized to perform this operation"}


def test_admin_expires_all_tokens(books: Books, sandbox: SandboxServer) -> None:
    assert books.get("/items").status_code == 200
    assert sandbox.admin.set_faults(expire_tokens=True)["expired_tokens"] == 1
    refused = books.get("/items")
    assert (refused.status_code, refused.json()["code"]) == (401, 57)
    books.token = books.fresh_token()
    assert books.get("/items").status_code == 200
