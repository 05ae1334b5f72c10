"""The shared rate budget in Redis: one Lua script per step, so every step is atomic.

Keys (all under ``tds:rate:<organization>@<api host>``): ``:bucket`` (a hash of
the token count and when it was last refilled), ``:day`` (a hash of the calls
used, Zoho's limit once seen and when the count resets) and ``:inflight`` (a
sorted set of in-flight slots scored by when they lapse). Time comes from
Redis's clock, so hosts need not agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

import redis

from tds.config import Settings
from tds.zoho.ratelimit.base import (
    DayQuota,
    RateBudget,
    Reservation,
    seconds_to_utc_midnight,
)

DAY_TTL_SECONDS = 2 * 86400

# Roll the day when its reset passed (to UTC midnight until Zoho tells its own).
_DAY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local day = redis.call('HMGET', KEYS[2], 'used', 'limit', 'resets')
local used = tonumber(day[1]) or 0
local limit = tonumber(day[2]) or tonumber(ARGV[1])
local resets = tonumber(day[3]) or 0
if now >= resets then used = 0; resets = now + tonumber(ARGV[2]) end
"""

# The bucket step of base.refill_and_reserve, after the day's count.
_RESERVE = _DAY + """
if used >= limit then return {-1, math.floor((resets - now) * 1e6), limit} end
local rate = tonumber(ARGV[3])
local capacity = tonumber(ARGV[6])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local elapsed = math.max(0, now - (tonumber(state[2]) or now))
tokens = math.min(capacity, tokens + elapsed * rate)
local wait = math.max(0, (1 - tokens) / rate)
if wait > tonumber(ARGV[4]) then return {0, math.ceil(wait * 1e6), limit} end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens - 1),
           'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((wait + 120) * 1000))
redis.call('HSET', KEYS[2], 'used', used + 1, 'resets', string.format('%.6f', resets))
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {1, math.floor(wait * 1e6), limit}
"""

# ARGV[3]: Zoho's limit ('' to keep), ARGV[4]: calls left, ARGV[5]: seconds to reset ('').
_RECORD_DAY = _DAY + """
if ARGV[3] ~= '' then limit = tonumber(ARGV[3]); redis.call('HSET', KEYS[2], 'limit', limit) end
if ARGV[5] ~= '' then resets = now + tonumber(ARGV[5]) end
redis.call('HSET', KEYS[2], 'used', math.max(0, limit - tonumber(ARGV[4])),
           'resets', string.format('%.6f', resets))
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"""

_QUOTA = _DAY + """
return {used, limit, math.floor((resets - now) * 1e6), day[2] and 1 or 0}
"""

_BOOK_AHEAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
tokens = math.min(capacity, tokens + math.max(0, now - (tonumber(state[2]) or now)) * rate)
tokens = math.min(tokens, 1 - rate * tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens),
           'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[2]) + 120) * 1000))
return 1
"""

_TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.6f', now + tonumber(ARGV[2])), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return 1
"""


class RedisTokenBucket(RateBudget):
    """The organization's budget in Redis (used when REDIS_URL is set)."""

    def __init__(self, client: redis.Redis, organization_id: str, api_host: str,
                 settings: Settings) -> None:
        super().__init__(organization_id, api_host, settings)
        self._client = client
        self._keys = [f"{self.key}:bucket", f"{self.key}:day"]
        self._inflight = f"{self.key}:inflight"
        self._reserve_script = client.register_script(_RESERVE)
        self._record_script = client.register_script(_RECORD_DAY)
        self._book_script = client.register_script(_BOOK_AHEAD)
        self._quota_script = client.register_script(_QUOTA)
        self._slot_script = client.register_script(_TAKE_SLOT)

    def _reserve(self, max_wait: float) -> Reservation:
        status, micros, limit = self._reserve_script(keys=self._keys, args=[
            self.daily_limit, seconds_to_utc_midnight(), repr(self.rate), repr(max_wait),
            DAY_TTL_SECONDS, repr(self.capacity)])
        return Reservation(granted=status == 1, wait=max(0, int(micros)) / 1e6,
                           daily_spent=status == -1, day_limit=int(limit))

    def day_quota(self) -> DayQuota:
        used, limit, resets, known = self._quota_script(keys=self._keys, args=[
            self.daily_limit, seconds_to_utc_midnight()])
        return DayQuota(int(limit), int(used), float(resets) / 1e6, bool(known))

    def _record_day(self, limit: int | None, remaining: int, resets_in: float | None) -> None:
        self._record_script(keys=self._keys, args=[
            self.daily_limit, seconds_to_utc_midnight(), "" if limit is None else limit,
            remaining, "" if resets_in is None else repr(resets_in), DAY_TTL_SECONDS])

    def _book_ahead(self, seconds: float) -> None:
        self._book_script(keys=self._keys[:1], args=[repr(self.rate), repr(seconds),
                                                     repr(self.capacity)])

    def _try_slot(self) -> str | None:
        token = f"{self.holder} {uuid.uuid4().hex}"  # whose it is, and which
        taken = self._slot_script(keys=[self._inflight],
                                  args=[self.max_concurrency, repr(self.slot_ttl), token])
        return token if taken == 1 else None

    def _free_slot(self, token: str) -> None:
        self._client.zrem(self._inflight, token)

    def _slots(self) -> list[str]:
        tokens: list[bytes] = self._client.zrange(self._inflight, 0, -1)  # type: ignore[assignment]
        return [token.decode() for token in tokens]

    def slot_holders(self) -> set[str]:
        return {token.rpartition(" ")[0] for token in self._slots()}

    def release_slots(self, holders: Collection[str]) -> int:
        gone = [token for token in self._slots() if token.rpartition(" ")[0] in holders]
        return int(self._client.zrem(self._inflight, *gone)) if gone else 0

