"""The per-organization Zoho rate budget (see :mod:`tds.zoho.ratelimit.base`)."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

from tds.config import Settings
from tds.db.session import Database
from tds.zoho.ratelimit.base import HEADROOM, DayQuota, RateBudget, Reservation
from tds.zoho.ratelimit.database_bucket import DatabaseTokenBucket
from tds.zoho.ratelimit.redis_bucket import RedisTokenBucket

__all__ = ["HEADROOM", "DatabaseTokenBucket", "DayQuota", "RateBudget", "RedisTokenBucket",
           "Reservation", "make_budget"]


def make_budget(settings: Settings, database: Database,
                redis_client: redis.Redis | None = None) -> RateBudget:
    """The budget of the configured organization on the configured API host: in Redis
    when a client is given (REDIS_URL set), else in the database."""
    organization_id = settings.zoho_organization_id
    host = urlsplit(settings.zoho_api_base_url).netloc
    if redis_client is not None:
        return RedisTokenBucket(redis_client, organization_id, host, settings)
    return DatabaseTokenBucket(database, organization_id, host, settings)
