"""Status codes and Zoho bodies are sorted into exceptions by one function."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tds.retry import is_transient
from tds.zoho.errors import (
    ZohoAPIError,
    ZohoAuthError,
    ZohoNotFoundError,
    ZohoRateLimitError,
    ZohoServerError,
    ZohoValidationError,
    error_from_response,
)


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    ("status", "body", "expected", "retryable"),
    [
        (200, {"code": 0, "message": "success"}, None, None),
        (201, {"code": 0, "message": "Sales Order Created Successfully."}, None, None),
        (200, {"access_token": "t", "expires_in": 3600}, None, None),
        (200, {"error": "invalid_code"}, ZohoAuthError, False),
        (200, {"error": "invalid_client"}, ZohoAuthError, False),
        (400, {"error": "invalid_client"}, ZohoAuthError, False),
        (200, {"error": "Access Denied", "error_description": "too many", "status": "failure"},
         ZohoRateLimitError, True),
        (200, {"code": 1001, "message": "odd"}, ZohoValidationError, False),
        (200, "<html>proxy</html>", ZohoServerError, True),
        (400, {"code": 1038, "message": "JSON is not well formed"}, ZohoValidationError, False),
        (401, {"code": 14, "message": "Invalid OAuth token"}, ZohoAuthError, False),
        (401, {"code": 57, "message": "You are not authorized"}, ZohoAuthError, False),
        (403, {"code": 57, "message": "You are not authorized"}, ZohoAuthError, False),
        (404, {"code": 1002, "message": "Invoice does not exist."}, ZohoNotFoundError, False),
        # "Not found" is Zoho's code 1002 whatever the status; code 5 is a wrong URL.
        (400, {"code": 1002, "message": "Invoice does not exist."}, ZohoNotFoundError, False),
        (404, {"code": 5, "message": "Invalid URL Passed"}, ZohoValidationError, False),
        (404, "", ZohoValidationError, False),
        (405, {"code": 37, "message": "Method not allowed"}, ZohoValidationError, False),
        (429, {"code": 44, "message": "Too many requests"}, ZohoRateLimitError, True),
        (429, {"code": 45, "message": "maximum number of API calls for the day"},
         ZohoRateLimitError, True),
        (429, "", ZohoRateLimitError, True),
        (500, {"code": 1000, "message": "Internal error"}, ZohoServerError, True),
        (502, "Bad gateway", ZohoServerError, True),
        (503, "", ZohoServerError, True),
    ],
)
def test_status_to_exception(status: int, body: Any, expected: type[ZohoAPIError] | None,
                             retryable: bool | None) -> None:
    error = error_from_response(answer(status, body))
    if expected is None:
        assert error is None
        return
    assert type(error) is expected
    assert error is not None
    assert is_transient(error) is retryable
    assert error.http_status == status
    assert str(error)  # every error tells the operator what to do


def test_error_keeps_zoho_code_message_and_response() -> None:
    response = answer(404, {"code": 1002, "message": "Invoice does not exist."})
    error = error_from_response(response)
    assert isinstance(error, ZohoNotFoundError)
    assert (error.code, error.message, error.response) == (1002, "Invoice does not exist.",
                                                           response)


def test_invalid_code_mentions_refresh_token_limit() -> None:
    error = error_from_response(answer(200, {"error": "invalid_code"}))
    assert isinstance(error, ZohoAuthError)
    assert "20 refresh tokens" in str(error)
    assert "ZOHO_REFRESH_TOKEN" in str(error)


def test_retry_after_header_is_read() -> None:
    error = error_from_response(answer(429, {"code": 44}, {"Retry-After": "7"}))
    assert isinstance(error, ZohoRateLimitError)
    assert error.retry_after == 7.0
    assert not error.daily


def test_daily_limit_waits_for_the_reset_zoho_gives() -> None:
    error = error_from_response(answer(429, {"code": 45, "message": "day"},
                                       {"X-Rate-Limit-Reset": "3600"}))
    assert isinstance(error, ZohoRateLimitError)
    assert error.daily
    assert error.retry_after == 3600.0
    assert is_transient(error)  # the quota resets; work waits for it, never dies of it
