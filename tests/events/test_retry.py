"""The one retry policy: what is transient, how long to wait, when work is dead."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from tds.retry import RetryPolicy, is_transient
from tds.zoho import (
    ZohoAuthError,
    ZohoNotFoundError,
    ZohoRateLimitError,
    ZohoServerError,
    ZohoTransportError,
    ZohoValidationError,
)


@pytest.mark.parametrize(("error", "transient"), [
    (ZohoServerError("5xx"), True),
    (ZohoTransportError("reset"), True),
    (ZohoRateLimitError("429"), True),
    (ZohoRateLimitError("daily", daily=True), True),
    (ZohoAuthError("another process refreshes", retry_after=0.05), True),
    (ZohoAuthError("invalid_code"), False),
    (ZohoValidationError("400"), False),
    (ZohoNotFoundError("404"), False),
    (OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
    (DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True), True),
    (ValueError("bug"), False),
])
def test_errors_are_sorted_into_transient_and_permanent(error: Exception,
                                                        transient: bool) -> None:
    assert is_transient(error) is transient


def test_backoff_grows_with_full_jitter_and_is_capped() -> None:
    policy = RetryPolicy(attempts=20, backoff_base=1.0, backoff_cap=8.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)):
        waits = [policy.delay(ZohoServerError("x"), attempt) for _ in range(200)]
        assert all(wait is not None and 0 <= wait <= ceiling for wait in waits)
        assert max(w for w in waits if w is not None) > ceiling / 2  # jitter spans the range


def test_work_is_dead_when_tries_are_spent_or_the_error_is_permanent() -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.delay(ZohoServerError("x"), 2) is not None
    assert policy.delay(ZohoServerError("x"), 3) is None
    assert policy.delay(ZohoValidationError("x"), 1) is None


def test_the_servers_hint_comes_first_capped_or_refused() -> None:
    hinted = ZohoRateLimitError("429", retry_after=5000)
    assert RetryPolicy(attempts=9, backoff_cap=900).delay(hinted, 1) == 900
    assert RetryPolicy(attempts=9, longest_hint=120).delay(hinted, 1) is None
    assert RetryPolicy(attempts=9, longest_hint=120).delay(
        ZohoRateLimitError("429", retry_after=7), 1) == 7
