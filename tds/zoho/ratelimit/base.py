"""One Zoho rate budget per organization, shared by every process and host.

The per-minute limit is a token bucket of capacity 1 refilled at
``HEADROOM x ZOHO_RATE_LIMIT_PER_MIN`` per minute. A caller *reserves* the
next token even when the bucket is empty (the count goes negative, a
debt) and sleeps exactly until its token is due, so callers are spaced
``1/rate`` apart in the order they asked and no window of any alignment
ever sees more than the limit. A reservation further away than
``ZOHO_BUDGET_WAIT_SECONDS`` is refused with :class:`ZohoRateLimitError`
(the Celery task retries later). The same step counts the day's calls
against ``ZOHO_DAILY_LIMIT``, and Zoho's ``X-Rate-Limit-*`` headers correct
that count. A separate semaphore caps calls in flight at
``ZOHO_MAX_CONCURRENCY``.

Storage is Redis (:class:`RedisTokenBucket`) when ``REDIS_URL`` is set,
else the database (:class:`DatabaseTokenBucket`).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from tds.config import Settings
from tds.zoho.errors import ZohoRateLimitError

# Pace at 97% of the limit: 3% absorbs clock and network jitter between our
# reservation and Zoho's count, so a 429 never happens on our account.
HEADROOM = 0.97
SLOT_POLL_SECONDS = 0.02


class Reservation(NamedTuple):
    """The answer of one atomic reserve step."""

    granted: bool
    wait: float  # seconds until the token is due (or would be, when refused)
    daily_spent: bool = False


class RateBudget(ABC):
    """The shared budget: take a token before every HTTP call to Zoho."""

    def __init__(self, organization_id: str, settings: Settings) -> None:
        self.organization_id = organization_id
        self.rate = settings.zoho_rate_limit_per_min * HEADROOM / 60.0  # tokens per second
        self.daily_limit = settings.zoho_daily_limit
        self.max_concurrency = settings.zoho_max_concurrency
        self.max_wait = settings.zoho_budget_wait_seconds
        # A slot not given back (its process died) lapses after one call's worst case.
        self.slot_ttl = settings.zoho_timeout_seconds * 2 + 5.0

    def acquire(self) -> None:
        """Block until this process may make one call; raise if that is too far away."""
        reservation = self._reserve(self.max_wait)
        if reservation.daily_spent:
            raise ZohoRateLimitError(
                f"The daily Zoho API quota ({self.daily_limit} calls) of organization "
                f"{self.organization_id} is spent; syncing resumes after the daily reset.",
                retry_after=reservation.wait or seconds_to_utc_midnight(), daily=True)
        if not reservation.granted:
            raise ZohoRateLimitError(
                f"The shared Zoho rate budget is booked {reservation.wait:.0f}s ahead, longer "
                f"than ZOHO_BUDGET_WAIT_SECONDS={self.max_wait:g}; the call is retried later.",
                retry_after=reservation.wait)
        if reservation.wait > 0:
            time.sleep(reservation.wait)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the organization's ``ZOHO_MAX_CONCURRENCY`` in-flight places."""
        deadline = time.monotonic() + self.max_wait
        while not (token := self._try_slot()):
            if time.monotonic() > deadline:
                raise ZohoRateLimitError(
                    f"All {self.max_concurrency} concurrent Zoho call slots stayed busy for "
                    f"{self.max_wait:g}s; the call is retried later.", retry_after=self.max_wait)
            time.sleep(SLOT_POLL_SECONDS)
        try:
            yield
        finally:
            self._free_slot(token)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Correct the day's count from Zoho's ``X-Rate-Limit-*`` headers, when present.

        The headers track the daily quota: ``Limit`` calls a day, ``Remaining`` left,
        ``Reset`` seconds until it refills. The count is set so that both
        ``ZOHO_DAILY_LIMIT`` and Zoho's remaining calls hold: when the plan allows
        fewer calls than configured, the budget stops where Zoho would.
        """
        remaining = _int(headers.get("X-Rate-Limit-Remaining"))
        if remaining is None:
            return
        remaining = max(0, remaining)
        limit = _int(headers.get("X-Rate-Limit-Limit")) or self.daily_limit
        reset = _int(headers.get("X-Rate-Limit-Reset"))
        used = max(limit - remaining, self.daily_limit - remaining, 0)
        self._correct(used, float(reset) if remaining == 0 and reset is not None else None)

    @abstractmethod
    def _reserve(self, max_wait: float) -> Reservation:
        """Atomically refill, count the day and reserve the next token if due within max_wait."""

    @abstractmethod
    def _try_slot(self) -> str | None:
        """Take an in-flight slot if one is free; return a handle to free it with."""

    @abstractmethod
    def _free_slot(self, token: str) -> None:
        """Give a slot back."""

    @abstractmethod
    def _correct(self, used_today: int, blocked_for: float | None) -> None:
        """Store Zoho's count of today's calls; block the day when Zoho says none remain."""


def refill_and_reserve(tokens: float, elapsed: float, rate: float,
                       max_wait: float) -> tuple[float, Reservation]:
    """The bucket step (the Redis script mirrors it): new token count and the answer."""
    tokens = min(1.0, tokens + max(0.0, elapsed) * rate)
    wait = max(0.0, (1.0 - tokens) / rate)
    if wait > max_wait:
        return tokens, Reservation(granted=False, wait=wait)
    return tokens - 1.0, Reservation(granted=True, wait=wait)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def seconds_to_utc_midnight() -> float:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return (midnight - now).total_seconds()


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
