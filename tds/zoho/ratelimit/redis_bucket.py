"""The shared rate budget in Redis: one Lua script per step, so every step is atomic.

Keys (all under ``tds:rate:<organization>``): ``:bucket`` (a hash of the
token count and when it was last refilled), ``:day:<UTC date>`` (calls
counted today), ``:blocked`` (set while Zoho says the day's quota is
spent) and ``:inflight`` (a sorted set of in-flight slots scored by when
they lapse). Time comes from Redis's clock, so hosts need not agree.
"""

from __future__ import annotations

import math
import uuid

import redis

from tds.config import Settings
from tds.zoho.ratelimit.base import RateBudget, Reservation, today

DAY_TTL_SECONDS = 2 * 86400

# The bucket step of base.refill_and_reserve, plus the daily count, in one script.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local blocked = redis.call('PTTL', KEYS[3])
if blocked > 0 then return {-1, blocked * 1000} end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then return {-1, 0} end
local rate = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or 1
local elapsed = math.max(0, now - (tonumber(state[2]) or now))
tokens = math.min(1, tokens + elapsed * rate)
local wait = math.max(0, (1 - tokens) / rate)
if wait > tonumber(ARGV[2]) then return {0, math.ceil(wait * 1e6)} end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens - 1),
           'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((wait + 120) * 1000))
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, math.floor(wait * 1e6)}
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

    def __init__(self, client: redis.Redis, organization_id: str, settings: Settings) -> None:
        super().__init__(organization_id, settings)
        self._client = client
        self.prefix = f"tds:rate:{organization_id}"
        self._reserve_script = client.register_script(_RESERVE)
        self._slot_script = client.register_script(_TAKE_SLOT)

    def _reserve(self, max_wait: float) -> Reservation:
        status, micros = self._reserve_script(
            keys=[f"{self.prefix}:bucket", self._day_key(), f"{self.prefix}:blocked"],
            args=[repr(self.rate), repr(max_wait), self.daily_limit, DAY_TTL_SECONDS],
        )
        return Reservation(granted=status == 1, wait=int(micros) / 1e6, daily_spent=status == -1)

    def _try_slot(self) -> str | None:
        token = uuid.uuid4().hex
        taken = self._slot_script(keys=[f"{self.prefix}:inflight"],
                                  args=[self.max_concurrency, repr(self.slot_ttl), token])
        return token if taken == 1 else None

    def _free_slot(self, token: str) -> None:
        self._client.zrem(f"{self.prefix}:inflight", token)

    def _correct(self, used_today: int, blocked_for: float | None) -> None:
        pipe = self._client.pipeline()
        pipe.set(self._day_key(), used_today, ex=DAY_TTL_SECONDS)
        if blocked_for is not None:
            pipe.set(f"{self.prefix}:blocked", 1, px=max(1, math.ceil(blocked_for * 1000)))
        pipe.execute()

    def _day_key(self) -> str:
        return f"{self.prefix}:day:{today()}"
