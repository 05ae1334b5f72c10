"""What to do when work fails: try again after a wait, or give up. Decided here only.

A :class:`RetryPolicy` answers, for any error, whether trying again can help
(:func:`is_transient`), how long to wait first (the server's hint first, else
exponential backoff with full jitter) and when the work is dead (its tries are
spent). The Zoho client uses a short policy (a few tries within one call), the
Celery tasks and the ledger a long one (minutes apart, then ``dead``); each
layer retries only what the layer below it gave up on, so attempts never
multiply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from tds.config import Settings
from tds.zoho.errors import (
    ZohoAPIError,
    ZohoAuthError,
    ZohoRateLimitError,
    ZohoServerError,
    ZohoTransportError,
)

CLIENT_BACKOFF_CAP_SECONDS = 30.0
PARK_SECONDS = 600.0  # a limit's wait when Zoho did not say how long


def is_transient(error: BaseException) -> bool:
    """Whether the same work may succeed later without anyone changing anything:
    Zoho's 5xx, transport failures, rate limits (even the daily quota resets), a
    token another process is refreshing, and database connections that dropped or
    timed out. Everything else needs a person (credentials, scope, a bad request)."""
    if isinstance(error, ZohoServerError | ZohoTransportError | ZohoRateLimitError):
        return True
    if isinstance(error, ZohoAuthError):
        return error.retry_after is not None
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def parks(error: BaseException) -> float | None:
    """Seconds to wait without spending a try, for a limit that lifts by itself (the
    day's quota until Zoho's reset, the token endpoint's window): work waiting on it
    is parked, never retried to death. None for any other error."""
    if isinstance(error, ZohoRateLimitError) and (error.daily or error.token_window):
        return error.retry_after if error.retry_after is not None else PARK_SECONDS
    return None


def hinted_wait(error: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``, a quota's reset), if it did."""
    return error.retry_after if isinstance(error, ZohoAPIError) else None


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry failed work.

    `attempts` counts every try, the first included. Backoff before try ``n + 1``
    is uniform in ``[0, min(backoff_cap, backoff_base * 2 ** (n - 1))]``. A server's
    hint is honoured first: up to `longest_hint` seconds when set (a longer one
    gives up, leaving the wait to the layer above), else capped at `backoff_cap`.
    """

    attempts: int
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    longest_hint: float | None = None

    def delay(self, error: BaseException, attempt: int) -> float | None:
        """Seconds to wait before the try after try number `attempt` failed with
        `error`, or None when the work is dead (permanent error, or tries spent)."""
        if not is_transient(error) or attempt >= self.attempts:
            return None
        hint = hinted_wait(error)
        if hint is not None:
            if self.longest_hint is None:
                return min(hint, self.backoff_cap)
            return hint if hint <= self.longest_hint else None
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff after try number `attempt`."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(attempt - 1, 0))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not secrecy


def client_policy(settings: Settings) -> RetryPolicy:
    """The Zoho client's: ``ZOHO_MAX_ATTEMPTS`` tries within one call, a hint waited
    out up to ``ZOHO_BUDGET_WAIT_SECONDS`` (longer ones go back to the task)."""
    return RetryPolicy(settings.zoho_max_attempts, backoff_cap=CLIENT_BACKOFF_CAP_SECONDS,
                       longest_hint=settings.zoho_budget_wait_seconds)


def task_policy(settings: Settings) -> RetryPolicy:
    """The tasks' and the ledger's: ``TDS_TASK_MAX_RETRIES`` retries after the first
    try, waits capped at ``TDS_RETRY_BACKOFF_MAX_SECONDS``, then the work is dead."""
    return RetryPolicy(settings.task_max_retries + 1,
                       backoff_cap=float(settings.retry_backoff_max_seconds))
