"""One Zoho rate budget per organization and API host, shared by every process and host.

The per-minute limit is a token bucket refilled at ``HEADROOM x
ZOHO_RATE_LIMIT_PER_MIN`` per minute, holding at most the headroom's worth of
tokens (3 of Zoho's 100): a call every process was too busy to make is not
lost, yet no window of any alignment ever sees more than the limit (the
refill's 97 plus the 3 held). A caller *reserves* the next token even when the
bucket is empty (the count goes negative, a debt) and sleeps exactly until its
token is due, so callers are spaced ``1/rate`` apart in the order they asked.
A reservation further away than ``ZOHO_BUDGET_WAIT_SECONDS`` is refused with
:class:`ZohoRateLimitError` (the work waits in a lower layer). A per-minute 429 from Zoho books the
bucket for the wait Zoho asked (or until the minute rolls over), so every
process pauses, not only the one that was refused.

The daily quota is Zoho's (``zoho-books-api.md``: trust the headers): its
``X-Rate-Limit-Limit``, ``-Remaining`` and ``-Reset`` (seconds until the
organization's midnight) set the day's limit, the calls used and when they
reset; ``ZOHO_DAILY_LIMIT`` and UTC midnight stand in until Zoho has said.
Once the day is spent (or Zoho answered code 45) no call leaves until the
reset, and the refusal quotes Zoho's figures. A separate semaphore caps
calls in flight at ``ZOHO_MAX_CONCURRENCY``.

Storage is Redis (:class:`RedisTokenBucket`) when ``REDIS_URL`` is set,
else the database (:class:`DatabaseTokenBucket`).
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from tds.config import Settings
from tds.processes import this_process
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
    day_limit: int = 0  # the day's limit in force (Zoho's when it has said)


class DayQuota(NamedTuple):
    """The day's quota as last known: the limit (Zoho's once seen), calls used, seconds
    until it resets, and whether the limit is Zoho's word or ZOHO_DAILY_LIMIT's."""

    limit: int
    used: int
    resets_in: float
    from_zoho: bool


class RateBudget(ABC):
    """The shared budget: take a token before every HTTP call to Zoho."""

    def __init__(self, organization_id: str, api_host: str, settings: Settings) -> None:
        self.organization_id = organization_id
        self.key = f"tds:rate:{organization_id}@{api_host}"
        limit = settings.zoho_rate_limit_per_min
        self.rate = limit * HEADROOM / settings.zoho_rate_window_seconds  # tokens per second
        self.capacity = max(1.0, math.floor(limit * (1 - HEADROOM)))
        self.daily_limit = settings.zoho_daily_limit  # until Zoho's headers say otherwise
        self.max_concurrency = settings.zoho_max_concurrency
        self.max_wait = settings.zoho_budget_wait_seconds
        # A slot not given back (its process died) lapses after one call's worst case,
        # unless its holder is found gone first (release_slots).
        self.slot_ttl = settings.zoho_timeout_seconds * 2 + 5.0
        self.holder = this_process()  # a worker names itself (its node name) instead

    def acquire(self) -> None:
        """Block until this process may make one call; raise if that is too far away."""
        reservation = self._reserve(self.max_wait)
        if reservation.daily_spent:
            raise ZohoRateLimitError(
                f"Zoho's daily API quota for organization {self.organization_id} is spent "
                f"({reservation.day_limit} calls a day, by Zoho's X-Rate-Limit-Limit once it "
                f"has answered, else ZOHO_DAILY_LIMIT); calls resume when it resets in "
                f"{_duration(reservation.wait)}. Work waits for it; nothing is lost.",
                retry_after=reservation.wait, daily=True)
        if not reservation.granted:
            raise ZohoRateLimitError(
                f"The shared Zoho rate budget is booked {reservation.wait:.0f}s ahead, longer "
                f"than ZOHO_BUDGET_WAIT_SECONDS={self.max_wait:g}; the call waits in the "
                "task's turn instead.", retry_after=reservation.wait)
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

    def slot_holders(self) -> set[str]:
        """Who holds in-flight slots now (an empty set where slots are not named)."""
        return set()

    def release_slots(self, holders: Collection[str]) -> int:
        """Free the slots `holders` hold (they are known gone); how many were. Where
        slots are a bare count (the database budget) they lapse with the slot time."""
        return 0

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the day's figures from Zoho's ``X-Rate-Limit-*`` headers, when present:
        ``Limit`` calls a day, ``Remaining`` left, ``Reset`` seconds until they refill."""
        remaining = _int(headers.get("X-Rate-Limit-Remaining"))
        if remaining is None:
            return
        limit = _int(headers.get("X-Rate-Limit-Limit"))
        reset = _int(headers.get("X-Rate-Limit-Reset"))
        day_limit = limit if limit and limit > 0 else None
        self._record_day(day_limit, max(0, remaining),
                         float(reset) if reset is not None and reset >= 0 else None)

    def exhaust_day(self, resets_in: float | None) -> None:
        """Zoho said the day's quota is spent (code 45): no call until it resets."""
        self._record_day(None, 0, resets_in)

    def pause(self, seconds: float) -> None:
        """Zoho refused a call for the minute: every process waits `seconds` first."""
        self._book_ahead(max(0.0, seconds))

    @abstractmethod
    def day_quota(self) -> DayQuota:
        """The day's quota as it stands (for the schedule's plan and the status views)."""

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
    def _record_day(self, limit: int | None, remaining: int, resets_in: float | None) -> None:
        """Store Zoho's figures: the day's limit (None: keep), the calls left, and the
        seconds until the count resets (None: keep)."""

    @abstractmethod
    def _book_ahead(self, seconds: float) -> None:
        """Push the bucket's next free token at least `seconds` away."""


def refill_and_reserve(tokens: float, elapsed: float, rate: float, capacity: float,
                       max_wait: float) -> tuple[float, Reservation]:
    """The bucket step (the Redis script mirrors it): new token count and the answer."""
    tokens = min(capacity, tokens + max(0.0, elapsed) * rate)
    wait = max(0.0, (1.0 - tokens) / rate)
    if wait > max_wait:
        return tokens, Reservation(granted=False, wait=wait)
    return tokens - 1.0, Reservation(granted=True, wait=wait)


def seconds_to_utc_midnight(now: datetime | None = None) -> float:
    """Until the next UTC midnight: the day's reset until Zoho tells its own."""
    now = now or datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return (midnight - now).total_seconds()


def _duration(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m{whole % 60:02d}s"


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
