"""Zoho OAuth: one access token per grant, shared by every process.

The token lives in ``tds_oauth_tokens`` (one row per accounts URL, client
and refresh token). A process reuses it until ``margin`` seconds before it
expires; then exactly one process refreshes it (under a Redis lock or a
database lease) while the others wait for the row to change. Zoho allows
only 10 token requests per 10 minutes per refresh token, so this matters.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import requests
from sqlalchemy import select, update

from tds.config import Settings
from tds.db.models import OAuthToken
from tds.db.session import Database
from tds.db.write import insert_for
from tds.zoho.errors import (
    ZohoAuthError,
    ZohoRateLimitError,
    error_from_response,
    transport_error,
)
from tds.zoho.locks import DatabaseRefreshLock, RedisRefreshLock, RefreshLock

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ZohoCredentials:
    """What identifies one OAuth grant and the organization it reads."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    accounts_url: str
    organization_id: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ZohoCredentials:
        return cls(settings.zoho_client_id, settings.zoho_client_secret,
                   settings.zoho_refresh_token, settings.zoho_accounts_url.rstrip("/"),
                   settings.zoho_organization_id)

    @property
    def key(self) -> str:
        """The token row's key: a hash of the whole grant (client secret included, so a
        token cached under a right secret never answers for a wrong one); the secrets
        are never stored in clear."""
        material = "\n".join((self.accounts_url, self.client_id, self.client_secret,
                              self.refresh_token))
        return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class AccessToken:
    """An access token and the API host it is valid for."""

    value: str = field(repr=False)
    api_domain: str | None
    expires_at: datetime

    def usable(self, margin: float = 0.0) -> bool:
        return self.expires_at - timedelta(seconds=margin) > datetime.now(UTC)


class ZohoAuthManager:
    """Hands out a valid access token, refreshing it at most once across all processes."""

    def __init__(self, credentials: ZohoCredentials, database: Database, settings: Settings,
                 session: requests.Session | None = None,
                 redis_client: redis.Redis | None = None) -> None:
        self.credentials = credentials
        self._database = database
        self._margin = float(settings.zoho_token_refresh_margin_seconds)
        self._timeout = settings.zoho_timeout_seconds
        self._http = session or requests.Session()
        lease = self._timeout + 5.0
        self._wait = lease + 5.0
        self._window = settings.zoho_token_window_seconds
        self._lock: RefreshLock = (
            RedisRefreshLock(redis_client, f"tds:oauth:{credentials.key}:lock", lease)
            if redis_client is not None
            else DatabaseRefreshLock(database, credentials.key, lease)
        )
        self._cached: AccessToken | None = None
        self._local = threading.Lock()
        self.refreshes = 0  # token grants this process made (for tests and logs)

    def token(self) -> AccessToken:
        """A token valid for at least the refresh margin (or the freshest one Zoho gave)."""
        cached = self._cached
        if cached is not None and cached.usable(self._margin):
            return cached
        with self._local:  # threads of one process queue here, not at Zoho
            return self._shared_token()

    def invalidate(self, value: str) -> None:
        """Forget `value` after Zoho refused it, unless a newer token already replaced it."""
        if self._cached is not None and self._cached.value == value:
            self._cached = None
        with self._database.session() as session:
            session.execute(
                update(OAuthToken)
                .where(OAuthToken.credential_key == self.credentials.key,
                       OAuthToken.access_token == value)
                .values(access_token=None, expires_at=None)
            )

    def _shared_token(self) -> AccessToken:
        deadline = time.monotonic() + self._wait
        self._ensure_row()
        while True:
            stored, blocked_for = self._read()
            if stored is not None and stored.usable(self._margin):
                self._cached = stored
                return stored
            if blocked_for > 0:
                if stored is not None and stored.usable():
                    return stored  # renewal waits for Zoho's window; this one still works
                raise self._throttled(blocked_for)
            if self._lock.try_acquire():
                try:
                    # Someone may have refreshed (or been refused) before we got the lock.
                    stored, blocked_for = self._read()
                    if blocked_for > 0 and (stored is None or not stored.usable()):
                        raise self._throttled(blocked_for)
                    if stored is None or not stored.usable(self._margin):
                        stored = self._refresh()
                    self._cached = stored
                    return stored
                finally:
                    self._lock.release()
            if stored is not None and stored.usable():
                return stored  # still valid while another process renews it
            if time.monotonic() > deadline:
                raise ZohoAuthError(
                    f"Waited {self._wait:.0f}s for another process to refresh the Zoho access "
                    "token; it may have crashed (the lease lapses by itself). Retried later.",
                    retry_after=POLL_SECONDS)
            time.sleep(POLL_SECONDS)

    def _refresh(self) -> AccessToken:
        url = f"{self.credentials.accounts_url}/oauth/v2/token"
        form = {"grant_type": "refresh_token", "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
                "refresh_token": self.credentials.refresh_token}
        try:
            response = self._http.post(url, data=form, timeout=self._timeout)
        except requests.RequestException as exc:
            raise transport_error(exc, url) from exc
        error = error_from_response(response)
        if isinstance(error, ZohoRateLimitError):  # "Access Denied": too many grants
            self._block_refreshes()
            raise self._throttled(self._window)
        if error is not None:
            raise error
        body = response.json()
        if not body.get("access_token"):
            raise ZohoAuthError(f"Zoho's token answer from {url} has no access_token; check "
                                "ZOHO_ACCOUNTS_URL.", http_status=response.status_code,
                                response=response)
        self.refreshes += 1
        now = datetime.now(UTC)
        token = AccessToken(str(body["access_token"]), body.get("api_domain"),
                            now + timedelta(seconds=float(body.get("expires_in", 3600))))
        with self._database.session() as session:
            session.execute(
                update(OAuthToken)
                .where(OAuthToken.credential_key == self.credentials.key)
                .values(access_token=token.value, api_domain=token.api_domain,
                        expires_at=token.expires_at, refreshed_at=now)
            )
        return token

    def _read(self) -> tuple[AccessToken | None, float]:
        """The shared token, if any, and the seconds until Zoho grants another."""
        with self._database.session() as session:
            row = session.execute(
                select(OAuthToken.access_token, OAuthToken.api_domain, OAuthToken.expires_at,
                       OAuthToken.refresh_blocked_until)
                .where(OAuthToken.credential_key == self.credentials.key)
            ).one_or_none()
        if row is None:
            return None, 0.0
        blocked_for = 0.0 if row.refresh_blocked_until is None else max(
            0.0, (row.refresh_blocked_until - datetime.now(UTC)).total_seconds())
        if row.access_token is None or row.expires_at is None:
            return None, blocked_for
        return AccessToken(row.access_token, row.api_domain, row.expires_at), blocked_for

    def _block_refreshes(self) -> None:
        """Zoho refused a grant: no process asks again before its window has passed."""
        until = datetime.now(UTC) + timedelta(seconds=self._window)
        with self._database.session() as session:
            session.execute(update(OAuthToken)
                            .where(OAuthToken.credential_key == self.credentials.key)
                            .values(refresh_blocked_until=until))

    def _throttled(self, seconds: float) -> ZohoRateLimitError:
        return ZohoRateLimitError(
            f"Zoho grants no new access token to this refresh token for {seconds:.0f}s (at "
            "most 10 grants in 10 minutes, zoho-books-api.md); waiting for its window. If "
            "this recurs, another app or process uses the same refresh token.",
            retry_after=seconds, token_window=True)

    def _ensure_row(self) -> None:
        with self._database.session() as session:
            session.execute(
                insert_for(session)(OAuthToken)
                .values(credential_key=self.credentials.key)
                .on_conflict_do_nothing(index_elements=["credential_key"])
            )


class ZohoOAuth(requests.auth.AuthBase):
    """Signs requests with ``Zoho-oauthtoken``; on a 401 (code 57 or 14 alike) refreshes
    once and re-sends once.

    ``before_resend`` runs before the re-send (the client takes a rate-budget
    token there, since the re-send is one more call to Zoho).
    """

    def __init__(self, manager: ZohoAuthManager,
                 before_resend: Callable[[], None] | None = None) -> None:
        self.manager = manager
        self._before_resend = before_resend

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Zoho-oauthtoken {self.manager.token().value}"
        request.hooks["response"].append(self._on_response)
        return request

    def _on_response(self, response: requests.Response, **send_options: Any) -> requests.Response:
        # Any 401 is worth one refresh: code 57 also means an expired or revoked token
        # (``zoho-books-api.md``); only a second refusal says a scope is missing.
        if response.status_code != 401:
            return response
        failed = str(response.request.headers.get("Authorization", "")).split(" ", 1)[-1]
        self.manager.invalidate(failed)
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Zoho-oauthtoken {self.manager.token().value}"
        response.content  # noqa: B018 - read the body so the connection can be reused
        response.close()
        if self._before_resend is not None:
            self._before_resend()
        assert response.connection is not None
        second: requests.Response = response.connection.send(retry, **send_options)
        second.history.append(response)
        second.request = retry
        return second


# Zoho Books scope modules by the first segment of a path (``zoho-books-api.md``: items
# and price lists sit under settings).
SCOPE_MODULES = {"items": "settings", "pricebooks": "settings", "organizations": "settings",
                 "settings": "settings", "contacts": "contacts", "invoices": "invoices",
                 "bills": "bills", "creditnotes": "creditnotes", "salesorders": "salesorders"}
SCOPE_OPERATIONS = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}


def scope_for(method: str, path: str) -> str:
    """The Zoho scope a call needs, e.g. ``ZohoBooks.invoices.READ`` for GET /invoices."""
    segment = path.strip("/").split("/", 1)[0]
    module = SCOPE_MODULES.get(segment, segment)
    return f"ZohoBooks.{module}.{SCOPE_OPERATIONS.get(method.upper(), 'READ')}"
