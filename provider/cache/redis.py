"""Redis backend: the cache interface over one pipelined connection per worker (resp.py)."""

from __future__ import annotations

import hashlib
import secrets
import time

from provider.cache.base import (
    Cache,
    CacheCommandError,
    WindowResult,
    clamp_ttl,
)
from provider.cache.resp import Reply, RespConnection

# A sorted set per key holds the hit times; trim, count, add and expire run atomically.
_SLIDING_WINDOW = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {count, 0, tostring(tonumber(oldest[2]) + window - now)}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return {count + 1, 1, '0'}
"""


# A counter that expires `ttl` after it was created: INCR and PEXPIRE in one atomic step.
_COUNTER = """
local value = redis.call('INCR', KEYS[1])
if value == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return value
"""


def _milliseconds(ttl: float) -> int:
    return int(clamp_ttl(ttl) * 1000)


class _Script:
    """A Lua script run by its SHA1, loaded by EVAL the first time a server lacks it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def run(
        self, redis: RespConnection, keys: list[str], args: list[str | int | float]
    ) -> Reply:
        try:
            return await redis.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except CacheCommandError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await redis.call("EVAL", self.source, len(keys), *keys, *args)


_WINDOW_SCRIPT = _Script(_SLIDING_WINDOW)
_COUNTER_SCRIPT = _Script(_COUNTER)


class RedisCache:
    def __init__(self, url: str) -> None:
        self._redis = RespConnection(url, timeout=0.5, connect_timeout=0.5)

    async def get(self, key: str) -> str | None:
        value = await self._redis.call("GET", key)
        return None if value is None else str(value)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        values = await self._redis.call("MGET", *keys)
        return [None if value is None else str(value) for value in values]

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._redis.call("SET", key, value, "PX", _milliseconds(ttl))

    async def set_eventually(self, key: str, value: str, ttl: float) -> None:
        """Redis alone has nowhere to keep a write it cannot take (CacheUnavailable): the
        FallbackCache around it keeps it."""
        await self.set(key, value, ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        return await self._redis.call("SET", key, value, "PX", _milliseconds(ttl), "NX") is not None

    async def delete(self, key: str) -> None:
        await self._redis.call("DEL", key)

    async def incr(self, key: str, ttl: float) -> int:
        return int(await _COUNTER_SCRIPT.run(self._redis, [key], [_milliseconds(ttl)]))

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        member = f"{time.time():.6f}:{secrets.token_hex(4)}"
        count, allowed, retry = await _WINDOW_SCRIPT.run(
            self._redis, [key], [time.time(), clamp_ttl(window), limit, member]
        )
        return WindowResult(int(count), bool(allowed), float(retry))

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.call("PUBLISH", channel, message)

    async def ping(self) -> None:
        await self._redis.call("PING")

    def strict(self) -> Cache:
        return self

    async def close(self) -> None:
        await self._redis.close()
