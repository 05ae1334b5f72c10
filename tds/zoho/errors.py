"""The Zoho error hierarchy, and the one function that sorts answers into it.

Every error carries Zoho's HTTP status, body ``code`` and ``message`` and
the response itself, and tells the operator what to do; whether trying again
can help is :func:`tds.retry.is_transient`'s to say. :func:`error_from_response` is the only
place that looks at status codes and error bodies.
"""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from time import time
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from tds.errors import TDSError

DAILY_LIMIT_CODE = 45
NOT_AUTHORIZED_CODE = 57  # a missing scope, or an expired or revoked access token
MISSING_AUTHORIZATION_CODE = 14
NOT_FOUND_CODE = 1002  # "Invoice does not exist.": the record is gone
WRONG_URL_CODE = 5  # "Invalid URL Passed": a wrong path, never a deleted record
# Zoho allows 10 token requests per 10 minutes; after "Access Denied" it grants none for
# the rest of the window (up to 10 minutes).
TOKEN_THROTTLE_WAIT_SECONDS = 600.0


class ZohoAPIError(TDSError):
    """Zoho (or the way to it) refused or failed a call."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: int | str | None = None,
        zoho_message: str | None = None,
        response: requests.Response | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = zoho_message or message
        self.response = response
        self.retry_after = retry_after  # seconds to wait before trying again, when known


class ZohoAuthError(ZohoAPIError):
    """Credentials, scope or data centre are wrong (a person must fix them), or a
    token refresh by another process is overdue (retryable, ``retry_after`` set)."""


class ZohoRateLimitError(ZohoAPIError):
    """A limit was reached: the minute's (wait a little), the day's quota (`daily`, wait
    for its reset) or the token endpoint's grants (`token_window`, wait for the window).
    ``retry_after`` says how long."""

    def __init__(self, message: str, *, daily: bool = False, token_window: bool = False,
                 **details: Any) -> None:
        super().__init__(message, **details)
        self.daily = daily
        self.token_window = token_window


class ZohoNotFoundError(ZohoAPIError):
    """The record or path does not exist (HTTP 404)."""


class ZohoValidationError(ZohoAPIError):
    """Zoho rejected the request as malformed (HTTP 400, 405, 409, 422...)."""


class ZohoServerError(ZohoAPIError):
    """Zoho failed (HTTP 5xx or an answer that is not Zoho's JSON)."""


class ZohoTransportError(ZohoAPIError):
    """The call never got an answer: connection refused or reset, timeout."""

    def __init__(self, message: str, *, maybe_sent: bool = True, **details: Any) -> None:
        super().__init__(message, **details)
        # False when the request surely never reached Zoho: a create is safe to resend.
        self.maybe_sent = maybe_sent



def transport_error(error: requests.RequestException, url: str) -> ZohoTransportError:
    """Wrap a failure to get any answer; the caller raises it ``from error``."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    never_sent = isinstance(error, requests.ConnectTimeout) or isinstance(
        reason, NewConnectionError)
    kind = "timed out" if isinstance(error, requests.Timeout) else "failed to connect or was cut"
    return ZohoTransportError(
        f"The call to {url} {kind} ({type(error).__name__}). Check the network path to Zoho "
        "and ZOHO_TIMEOUT_SECONDS; the call is retried automatically.",
        maybe_sent=not never_sent,
    )


def error_from_response(response: requests.Response,
                        body: dict[str, Any] | None = None) -> ZohoAPIError | None:
    """The error an answer stands for, or None when it is a success.

    Handles the accounts server's token answers (errors often arrive as
    HTTP 200 with an ``error`` key) and the Books API's envelopes
    (``code`` 0 means success; 45 the daily limit; 57 a missing scope).
    `body` is the answer's :func:`json_object` when the caller has it already
    (a page of records is worth decoding once).
    """
    status = response.status_code
    if body is None:
        body = json_object(response)
    if body is not None and isinstance(body.get("error"), str):
        return _token_error(response, body["error"], str(body.get("error_description") or ""))
    code = body.get("code") if body is not None else None
    zoho_message = str(body.get("message") or "") if body is not None else ""
    details: dict[str, Any] = {"http_status": status, "code": code,
                               "zoho_message": zoho_message or None, "response": response}
    said = f"Zoho answered HTTP {status} (code {code}: {zoho_message or 'no message'})"
    if status < 300:
        if body is None:
            return ZohoServerError(f"{said} but the body is not JSON; a proxy may be in the way "
                                   "(check ZOHO_API_BASE_URL). Retried automatically.", **details)
        if code in (None, 0):
            return None
        return ZohoValidationError(f"{said}: the request was refused; fix the request.", **details)
    if status == 429 or code == DAILY_LIMIT_CODE:
        return _rate_limit_error(response, said, details)
    if code == NOT_FOUND_CODE:  # Zoho's word decides, whatever the status
        return ZohoNotFoundError(f"{said}: no such record.", **details)
    if code == NOT_AUTHORIZED_CODE:
        return ZohoAuthError(f"{said}: refused even with a fresh access token, so the refresh "
                             "token lacks the scope for this call. Issue a new refresh token "
                             "with the ZohoBooks scopes TDS needs (e.g. "
                             "ZohoBooks.fullaccess.all).", **details)
    if status == 401:
        return ZohoAuthError(f"{said}: the access token was refused even after a refresh. Check "
                             "ZOHO_DC: the token only works in the data centre that issued it.",
                             **details)
    if status == 404:
        return ZohoValidationError(f"{said}: Zoho has no such path; a wrong URL is never a "
                                   "deleted record. Check ZOHO_API_BASE_URL.", **details)
    if status >= 500:
        return ZohoServerError(f"{said}: Zoho failed; retried automatically, and if it persists "
                               "check status.zoho.com.",
                               retry_after=_seconds(response.headers.get("Retry-After")), **details)
    if status == 403:
        return ZohoAuthError(f"{said}: access forbidden; check the Zoho user's role in the "
                             "organization and ZOHO_ORGANIZATION_ID.", **details)
    return ZohoValidationError(f"{said}: the request was refused; fix the request (not retried).",
                               **details)


def _token_error(response: requests.Response, error: str, description: str) -> ZohoAPIError:
    details: dict[str, Any] = {"http_status": response.status_code, "code": error,
                               "zoho_message": description or error, "response": response}
    if error == "invalid_code":
        return ZohoAuthError(
            "Zoho rejected the refresh token (invalid_code): it is wrong, revoked, or was "
            "silently deleted because the user issued more than 20 refresh tokens. Issue a new "
            "refresh token in the Zoho API console and set ZOHO_REFRESH_TOKEN.", **details)
    if error == "invalid_client":
        return ZohoAuthError(
            "Zoho does not know this client (invalid_client): check ZOHO_CLIENT_ID, "
            "ZOHO_CLIENT_SECRET and ZOHO_DC (a client belongs to one data centre).", **details)
    if error.lower() == "access denied":
        return ZohoRateLimitError(
            "Zoho refused to issue another access token (too many token requests: at most 10 "
            "per 10 minutes). TDS waits for the window; if it persists, look for another "
            "process or app using the same refresh token.",
            retry_after=TOKEN_THROTTLE_WAIT_SECONDS, token_window=True, **details)
    return ZohoAuthError(f"Zoho's accounts server refused the token request ({error}: "
                         f"{description or 'no description'}); check the Zoho credentials.",
                         **details)


def _rate_limit_error(response: requests.Response, said: str,
                      details: dict[str, Any]) -> ZohoRateLimitError:
    if details["code"] == DAILY_LIMIT_CODE:
        reset = _seconds(response.headers.get("X-Rate-Limit-Reset"))
        return ZohoRateLimitError(
            f"{said}: the organization's daily API quota is spent. Syncing resumes when it "
            "resets; raise ZOHO_DAILY_LIMIT only if the Zoho plan allows more.",
            retry_after=reset, daily=True, **details)
    # Zoho's per-minute answer may carry no Retry-After (unconfirmed): wait out the minute.
    wait = _seconds(response.headers.get("Retry-After"))
    return ZohoRateLimitError(
        f"{said}: the per-minute limit was hit. The calls wait for the window; if this recurs, "
        "another app shares the organization's budget: lower ZOHO_RATE_LIMIT_PER_MIN.",
        retry_after=wait if wait is not None else 60.0 - time() % 60.0 + 0.5, **details)


def _seconds(value: str | None) -> float | None:
    """A Retry-After style value (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError):
        return None


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The answer's JSON object, or None when it is not one."""
    return json_object_of(answer_text(response))


def answer_text(response: requests.Response) -> str:
    """The answer as text, in its declared charset, else UTF-8 (JSON's own, RFC 8259),
    never guessed: guessing reads the whole body once more."""
    return response.content.decode(response.encoding or "utf-8", errors="replace")


def json_object_of(text: str) -> dict[str, Any] | None:
    """`text` decoded as a JSON object, or None when it is not one."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
