"""Sandbox fixtures: started servers over real HTTP, and a Books caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tds.sandbox import SandboxConfig, SandboxServer

SMALL = {"items": 30, "contacts": 20, "invoices": 15, "bills": 10, "creditnotes": 10,
         "salesorders": 10, "pricebooks": 3, "inventory_adjustments": 5}


def token_params(config: SandboxConfig, **overrides: str) -> dict[str, str]:
    params = {"grant_type": "refresh_token", "client_id": config.client_id,
              "client_secret": config.client_secret, "refresh_token": config.refresh_token}
    params.update(overrides)
    return params


class Books:
    """A minimal Zoho caller for tests: one token, organization_id on every call."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.token = self.fresh_token()

    def fresh_token(self) -> str:
        answer = self.session.post(f"{self.server.accounts_url}/oauth/v2/token",
                                   params=token_params(self.server.config), timeout=10)
        token: str = answer.json()["access_token"]
        return token

    def call(self, method: str, path: str, params: dict[str, Any] | None = None,
             base: str | None = None, **kwargs: Any) -> requests.Response:
        query = {"organization_id": self.server.config.organization_id, **(params or {})}
        headers = {"Authorization": f"Zoho-oauthtoken {self.token}", **kwargs.pop("headers", {})}
        return self.session.request(
            method, f"{base or self.server.api_base_url}{path}", params=query, timeout=10,
            headers=headers, **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params)

    def walk(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every record of a list endpoint, page by page until has_more_page is false."""
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get(path, page=page, **params).json()
            records.extend(body[key])
            if not body["page_context"]["has_more_page"]:
                return records
            page += 1


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with given config fields (small data by default); all stop after."""
    started: list[SandboxServer] = []

    def start(**config: Any) -> SandboxServer:
        server = SandboxServer(SandboxConfig(**{**SMALL, **config})).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A started sandbox with small data and default limits."""
    return sandbox_factory()


@pytest.fixture
def books(sandbox: SandboxServer) -> Books:
    """A caller holding a valid token for ``sandbox``."""
    return Books(sandbox)
