"""The lock that lets one process at a time refresh the Zoho access token.

With Redis: ``SET key owner NX PX lease`` and a release that deletes the
key only while it still holds our owner token (a Lua compare-and-delete),
so a lease that expired and was taken by another process is never freed
by us. Without Redis: a lease on the token's own row in
``tds_oauth_tokens``, claimed by a conditional UPDATE (works the same on
SQLite and Postgres) and freed by an UPDATE that checks the owner.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

import redis
from sqlalchemy import CursorResult, or_, update

from tds.db.models import OAuthToken
from tds.db.session import Database

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RefreshLock(Protocol):
    """A lease held by at most one process; it lapses by itself if the holder dies."""

    def try_acquire(self) -> bool:
        """Take the lease if it is free; never waits."""

    def release(self) -> None:
        """Give the lease back if we still hold it."""


class RedisRefreshLock:
    """The refresh lock in Redis (used when REDIS_URL is set)."""

    def __init__(self, client: redis.Redis, key: str, lease_seconds: float) -> None:
        self._client = client
        self._key = key
        self._lease_ms = int(lease_seconds * 1000)
        self._owner = uuid.uuid4().hex
        self._release = client.register_script(_RELEASE)

    def try_acquire(self) -> bool:
        return bool(self._client.set(self._key, self._owner, nx=True, px=self._lease_ms))

    def release(self) -> None:
        self._release(keys=[self._key], args=[self._owner])


class DatabaseRefreshLock:
    """The refresh lock as a lease on the token row (used without Redis)."""

    def __init__(self, database: Database, credential_key: str, lease_seconds: float) -> None:
        self._database = database
        self._key = credential_key
        self._lease = timedelta(seconds=lease_seconds)
        self._owner = uuid.uuid4().hex

    def try_acquire(self) -> bool:
        now = datetime.now(UTC)
        claim = (
            update(OAuthToken)
            .where(OAuthToken.credential_key == self._key)
            .where(or_(OAuthToken.refresh_lock_until.is_(None),
                       OAuthToken.refresh_lock_until < now))
            .values(refresh_lock_owner=self._owner, refresh_lock_until=now + self._lease)
        )
        with self._database.session() as session:
            result = cast(CursorResult[Any], session.execute(claim))
            return result.rowcount == 1

    def release(self) -> None:
        free = (
            update(OAuthToken)
            .where(OAuthToken.credential_key == self._key,
                   OAuthToken.refresh_lock_owner == self._owner)
            .values(refresh_lock_owner=None, refresh_lock_until=None)
        )
        with self._database.session() as session:
            session.execute(free)
