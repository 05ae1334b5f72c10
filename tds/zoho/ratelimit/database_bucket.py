"""The shared rate budget in the database, for deployments without Redis.

One ``tds_rate_buckets`` row per organization. Each reserve step reads the
row under a write lock (``SELECT ... FOR UPDATE`` on Postgres; SQLite
transactions already start with ``BEGIN IMMEDIATE``), applies the bucket
step and writes it back. In-flight slots are a counter moved by
conditional UPDATEs; a counter left high by a crashed process is reset
once the bucket has been idle longer than a call can last.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, select, update

from tds.config import Settings
from tds.db.models import RateBucket
from tds.db.session import Database
from tds.db.write import insert_for
from tds.zoho.ratelimit.base import RateBudget, Reservation, refill_and_reserve, today


class DatabaseTokenBucket(RateBudget):
    """The organization's budget in ``tds_rate_buckets`` (used without Redis)."""

    def __init__(self, database: Database, organization_id: str, settings: Settings) -> None:
        super().__init__(organization_id, settings)
        self._database = database
        self.key = f"tds:rate:{organization_id}"
        self._ensure_row()

    def _reserve(self, max_wait: float) -> Reservation:
        day = today()
        with self._database.session() as session:
            row = session.execute(
                select(RateBucket).where(RateBucket.bucket_key == self.key).with_for_update()
            ).scalar_one()
            # The clock is read once the row is ours: a moment taken before waiting for
            # the lock would credit the bucket with time the previous holder already used.
            now = datetime.now(UTC)
            booked = time.monotonic()
            if row.day != day:
                row.day, row.day_count = day, 0
            if row.day_count >= self.daily_limit:
                return Reservation(granted=False, wait=0.0, daily_spent=True)
            elapsed = (now - row.refilled_at).total_seconds()
            tokens, reservation = refill_and_reserve(row.tokens, elapsed, self.rate, max_wait)
            if reservation.granted:
                row.tokens, row.refilled_at = tokens, now
                row.day_count += 1
        # The wait counts from `now`, not from after the commit (which can take a while).
        return reservation._replace(
            wait=max(0.0, reservation.wait - (time.monotonic() - booked)))

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

    def _correct(self, used_today: int, blocked_for: float | None) -> None:
        used = max(used_today, self.daily_limit) if blocked_for is not None else used_today
        with self._database.session() as session:
            session.execute(
                update(RateBucket).where(RateBucket.bucket_key == self.key)
                .values(day=today(), day_count=used)
            )

    def _ensure_row(self) -> None:
        with self._database.session() as session:
            session.execute(
                insert_for(session)(RateBucket)
                .values(bucket_key=self.key, tokens=1.0, refilled_at=datetime.now(UTC),
                        day=today(), day_count=0, in_flight=0)
                .on_conflict_do_nothing(index_elements=["bucket_key"])
            )
