"""The one Zoho Books client every TDS component uses.

Each call: take an in-flight slot and a rate-budget token, send it with
the shared OAuth token and ``organization_id``, sort the answer with
:func:`error_from_response`, and retry transient failures here and only
here (the transport retries refused connections; Celery retries later).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import redis
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tds.config import Settings
from tds.db.session import Database
from tds.pages import SourcePage
from tds.retry import client_policy
from tds.zoho.auth import ZohoAuthManager, ZohoCredentials, ZohoOAuth, scope_for
from tds.zoho.connection_check import ConnectionCheck, check_connection
from tds.zoho.errors import (
    NOT_AUTHORIZED_CODE,
    ZohoAPIError,
    ZohoAuthError,
    ZohoRateLimitError,
    ZohoTransportError,
    ZohoValidationError,
    answer_text,
    error_from_response,
    json_object_of,
    transport_error,
)
from tds.zoho.ratelimit import make_budget

log = logging.getLogger("tds.zoho")

CONNECT_RETRIES = 2  # the transport's share: connections refused before anything was sent
REPORTED_WAIT_SECONDS = 2.0  # a wait this long is said (logs, the CLI's progress line)
Params = Mapping[str, Any]


class Answer(NamedTuple):
    """A successful call's decoded JSON object and the text it was decoded from."""

    body: dict[str, Any]
    text: str


class UnifiedZohoClient:
    """Zoho Books v3 for one organization, under the shared token and rate budget."""

    def __init__(self, settings: Settings, database: Database,
                 session: requests.Session | None = None,
                 redis_client: redis.Redis | None = None) -> None:
        self.settings = settings
        if redis_client is None and settings.redis_url:
            redis_client = redis.Redis.from_url(settings.redis_url)
        self.credentials = ZohoCredentials.from_settings(settings)
        self.auth = ZohoAuthManager(self.credentials, database, settings,
                                    session=_mount(requests.Session(), settings),
                                    redis_client=redis_client)
        self.budget = make_budget(settings, database, redis_client)
        self.http = _mount(session or requests.Session(), settings)
        self.http.auth = ZohoOAuth(self.auth, before_resend=self.budget.acquire)
        self.retry_policy = client_policy(settings)
        # Told before each long wait (a limit's window, a token's): the CLI shows it.
        self.on_wait: Callable[[str, float], None] = _log_wait
        self._owned_database: Database | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> UnifiedZohoClient:
        """A client with its own database engine (CLI commands, scripts); close() disposes it."""
        database = Database(settings.database_url)
        client = cls(settings, database)
        client._owned_database = database
        return client

    def get(self, path: str, params: Params | None = None) -> dict[str, Any]:
        """GET `path` (relative to the Books base URL); the decoded JSON answer."""
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, params: Params | None = None) -> dict[str, Any]:
        """POST a create. Resent only when Zoho surely did not receive it (429, refused
        connection): Zoho has no idempotency key, so callers look a create up before retrying."""
        return self.request("POST", path, params=params, json=json)

    def put(self, path: str, json: Any = None, params: Params | None = None) -> dict[str, Any]:
        """PUT an update (idempotent, so retried like a GET)."""
        return self.request("PUT", path, params=params, json=json)

    def paginated_fetch(self, path: str, list_key: str, params: Params | None = None,
                        per_page: int = 200) -> Iterator[SourcePage]:
        """Yield one page (a list of records, with the JSON text it was decoded from) at
        a time until Zoho says there are no more."""
        query = dict(params or {})
        page = int(query.pop("page", 1))
        while True:
            answer = self.answer("GET", path, params={**query, "page": page,
                                                      "per_page": per_page})
            records = answer.body.get(list_key)
            if not isinstance(records, list):
                raise ZohoValidationError(f"Zoho's answer for {path} page {page} has no "
                                          f"{list_key!r} list; check the entity's list key.")
            context = answer.body.get("page_context")
            # has_more_page is exact (``zoho-books-api.md``); an answer without a page
            # context (an endpoint whose paging is undocumented) is taken as whole.
            more = isinstance(context, dict) and bool(context.get("has_more_page"))
            yield SourcePage(records, answer.text, list_key)
            del answer, records
            if not more:
                return
            page += 1

    def request(self, method: str, path: str, *, params: Params | None = None, json: Any = None,
                with_organization: bool = True) -> dict[str, Any]:
        """One call with the retry policy; raises a :class:`ZohoAPIError` subclass."""
        return self.answer(method, path, params=params, json=json,
                           with_organization=with_organization).body

    def answer(self, method: str, path: str, *, params: Params | None = None, json: Any = None,
               with_organization: bool = True) -> Answer:
        """:meth:`request`, keeping the answer's text beside its decoded JSON."""
        query = dict(params or {})
        if with_organization:
            query["organization_id"] = self.credentials.organization_id
        attempt = 0
        while True:
            attempt += 1
            with self.budget.slot():
                answer, error = self._attempt(method, path, query, json, attempt)
            if error is None and answer is not None:
                return answer
            assert error is not None
            delay = self._retry_delay(error, attempt, idempotent=method != "POST")
            if delay is None:
                raise error
            # Tests switch backoff sleeps off with one setting; a wait Zoho asked for stays.
            if error.retry_after is not None or not self.settings.testing:
                if delay >= REPORTED_WAIT_SECONDS:
                    self.on_wait(str(error), delay)
                time.sleep(delay)

    def test_connection(self) -> ConnectionCheck:
        """Check credentials, scope, data centre and organization; say what is wrong."""
        return check_connection(self)

    def api_base_url(self) -> str:
        """The Books base URL on the host Zoho named in the token answer (``api_domain``)."""
        configured = self.settings.zoho_api_base_url.rstrip("/")
        domain = self.auth.token().api_domain
        if not domain:
            return configured
        domain = domain.rstrip("/")
        return domain if urlsplit(domain).path else domain + urlsplit(configured).path

    def close(self) -> None:
        """Close pooled HTTP connections, and the database engine if the client made it."""
        self.http.close()
        if self._owned_database is not None:
            self._owned_database.dispose()

    def _attempt(self, method: str, path: str, query: dict[str, Any], json: Any,
                 attempt: int) -> tuple[Answer | None, ZohoAPIError | None]:
        """One call: Zoho's answer, or the error it stands for."""
        started = time.monotonic()
        response: requests.Response | None = None
        answer: Answer | None = None
        try:
            # The token first (it may take a refresh, or a wait for another process's):
            # the moment the budget books must be the moment the call leaves, or
            # callers bunch up at Zoho however evenly they were spaced here.
            url = self.api_base_url() + "/" + path.lstrip("/")
        except ZohoAPIError as exc:
            return None, self._logged(method, path, attempt, started, None, exc)
        self.budget.acquire()
        started = time.monotonic()
        try:
            try:
                response = self.http.request(method, url, params=query, json=json,
                                             timeout=self.settings.zoho_timeout_seconds)
            except requests.RequestException as exc:
                raise transport_error(exc, url) from exc
            self.budget.observe(response.headers)
            text = answer_text(response)
            body = json_object_of(text)
            error = error_from_response(response, body)
            if isinstance(error, ZohoRateLimitError) and error.http_status == 429:
                self._hold_everyone(error)
            if error is None and body is not None:
                answer = Answer(body, text)
            elif isinstance(error, ZohoAuthError) and error.code == NOT_AUTHORIZED_CODE:
                error = ZohoAuthError(  # refused again after the refresh: a missing scope
                    f"{error} The call {method} {path} needs {scope_for(method, path)}.",
                    http_status=error.http_status, code=error.code, zoho_message=error.message,
                    response=response)
        except ZohoAPIError as exc:  # a transport failure, or a refresh after a 401 failed
            error = exc
        return answer, self._logged(method, path, attempt, started, response, error)

    def _hold_everyone(self, error: ZohoRateLimitError) -> None:
        """Zoho refused a call for a limit: every process waits, not only this one."""
        if error.daily:
            self.budget.exhaust_day(error.retry_after)
        elif error.retry_after is not None:
            self.budget.pause(error.retry_after)

    @staticmethod
    def _logged(method: str, path: str, attempt: int, started: float,
                response: requests.Response | None,
                error: ZohoAPIError | None) -> ZohoAPIError | None:
        log.info("zoho call", extra={
            "method": method, "path": path, "attempt": attempt,
            "status": response.status_code if response is not None else None,
            "zoho_code": error.code if error is not None else 0,
            "error": type(error).__name__ if error is not None else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        })
        return error

    def _retry_delay(self, error: ZohoAPIError, attempt: int, idempotent: bool) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        unsent = isinstance(error, ZohoRateLimitError) or (
            isinstance(error, ZohoTransportError) and not error.maybe_sent)
        if not idempotent and not unsent:
            return None  # Zoho may have created it: the caller looks it up, then retries
        return self.retry_policy.delay(error, attempt)


def _log_wait(reason: str, seconds: float) -> None:
    log.warning("waiting for Zoho", extra={"wait_seconds": round(seconds, 1), "reason": reason})


def _mount(session: requests.Session, settings: Settings) -> requests.Session:
    """Give `session` an adapter that retries refused connections only (never reads)."""
    retries = Retry(total=CONNECT_RETRIES, connect=CONNECT_RETRIES, read=0, status=0, other=0,
                    redirect=0, backoff_factor=0, raise_on_status=False)
    pool = max(10, settings.zoho_max_concurrency)
    adapter = HTTPAdapter(max_retries=retries, pool_connections=pool, pool_maxsize=pool)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
