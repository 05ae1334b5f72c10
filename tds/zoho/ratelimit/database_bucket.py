"""The shared rate budget in the database, for deployments without Redis.

One ``tds_rate_buckets`` row per organization and API host. Each step reads
the row under a write lock (``SELECT ... FOR UPDATE`` on Postgres; SQLite
transactions already start with ``BEGIN IMMEDIATE``), applies the bucket or
day step and writes it back, in a short transaction of its own. In-flight
slots are a counter moved by conditional UPDATEs; a counter left high by a
crashed process is reset once the bucket has been idle longer than a call
can last.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, select, update

from tds.config import Settings
from tds.db.models import RateBucket
from tds.db.session import Database
from tds.db.write import insert_for
from tds.zoho.ratelimit.base import (
    DayQuota,
    RateBudget,
    Reservation,
    refill_and_reserve,
    seconds_to_utc_midnight,
)


class DatabaseTokenBucket(RateBudget):
    """The organization's budget in ``tds_rate_buckets`` (used without Redis)."""

    def __init__(self, database: Database, organization_id: str, api_host: str,
                 settings: Settings) -> None:
        super().__init__(organization_id, api_host, settings)
        self._database = database
        self._ensure_row()

    def _reserve(self, max_wait: float) -> Reservation:
        with self._locked_row() as (row, now):
            booked = time.monotonic()
            self._roll_day(row, now)
            limit = row.day_limit or self.daily_limit
            if row.day_count >= limit:
                resets_in = (_aware(row.day_resets_at) - now).total_seconds()
                return Reservation(False, max(0.0, resets_in), True, limit)
            elapsed = (now - _aware(row.refilled_at)).total_seconds()
            tokens, reservation = refill_and_reserve(row.tokens, elapsed, self.rate,
                                                     self.capacity, max_wait)
            if reservation.granted:
                row.tokens, row.refilled_at = tokens, now
                row.day_count += 1
        # The wait counts from `now`, not from after the commit (which can take a while).
        return reservation._replace(
            wait=max(0.0, reservation.wait - (time.monotonic() - booked)), day_limit=limit)

    def day_quota(self) -> DayQuota:
        with self._locked_row() as (row, now):
            self._roll_day(row, now)
            return DayQuota(row.day_limit or self.daily_limit, row.day_count,
                            (_aware(row.day_resets_at) - now).total_seconds(),
                            row.day_limit is not None)

    def _record_day(self, limit: int | None, remaining: int, resets_in: float | None) -> None:
        with self._locked_row() as (row, now):
            if limit is not None:
                row.day_limit = limit
            self._roll_day(row, now)
            row.day_count = max(0, (row.day_limit or self.daily_limit) - remaining)
            if resets_in is not None:
                row.day_resets_at = now + timedelta(seconds=resets_in)

    def _book_ahead(self, seconds: float) -> None:
        with self._locked_row() as (row, now):
            elapsed = (now - _aware(row.refilled_at)).total_seconds()
            tokens = min(self.capacity, row.tokens + max(0.0, elapsed) * self.rate)
            row.tokens, row.refilled_at = min(tokens, 1.0 - self.rate * seconds), now

    def _try_slot(self) -> str | None:
        stale = datetime.now(UTC) - timedelta(seconds=self.slot_ttl)
        idle = RateBucket.refilled_at < stale
        take = (
            update(RateBucket)
            .where(RateBucket.bucket_key == self.key,
                   (RateBucket.in_flight < self.max_concurrency) | idle)
            .values(in_flight=case((idle, 1), else_=RateBucket.in_flight + 1))
        )
        with self._database.session() as session:
            taken = cast(CursorResult[Any], session.execute(take)).rowcount
        return self.key if taken == 1 else None

    def _free_slot(self, token: str) -> None:
        with self._database.session() as session:
            session.execute(
                update(RateBucket)
                .where(RateBucket.bucket_key == token, RateBucket.in_flight > 0)
                .values(in_flight=RateBucket.in_flight - 1)
            )

    @contextmanager
    def _locked_row(self) -> Iterator[tuple[RateBucket, datetime]]:
        """The bucket row, locked, and the moment it became ours (a moment taken before
        waiting for the lock would credit time the previous holder already used)."""
        with self._database.session() as session:
            row = session.execute(
                select(RateBucket).where(RateBucket.bucket_key == self.key).with_for_update()
            ).scalar_one()
            yield row, datetime.now(UTC)

    @staticmethod
    def _roll_day(row: RateBucket, now: datetime) -> None:
        if row.day_resets_at is None or now >= _aware(row.day_resets_at):
            row.day_count = 0
            row.day_resets_at = now + timedelta(seconds=seconds_to_utc_midnight(now))

    def _ensure_row(self) -> None:
        with self._database.session() as session:
            session.execute(
                insert_for(session)(RateBucket)
                .values(bucket_key=self.key, tokens=1.0, refilled_at=datetime.now(UTC),
                        day_count=0, in_flight=0)
                .on_conflict_do_nothing(index_elements=["bucket_key"])
            )


def _aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
