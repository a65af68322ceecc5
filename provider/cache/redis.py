"""Redis backend through redis-py's `redis.asyncio` (aioredis is abandoned and fails on 3.11)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from provider.cache.base import (
    Cache,
    CacheCommandError,
    CacheUnavailable,
    WindowResult,
    clamp_ttl,
)

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


@contextmanager
def _translated() -> Iterator[None]:
    """Connection-level failures are an outage; anything else is this command's own error."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise CacheUnavailable(str(exc)) from exc
    except RedisError as exc:
        raise CacheCommandError(str(exc)) from exc


def _milliseconds(ttl: float) -> int:
    return int(clamp_ttl(ttl) * 1000)


class RedisCache:
    def __init__(self, url: str) -> None:
        self._client: redis.Redis = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._window = self._client.register_script(_SLIDING_WINDOW)
        self._counter = self._client.register_script(_COUNTER)

    async def get(self, key: str) -> str | None:
        with _translated():
            value = await self._client.get(key)
        return None if value is None else str(value)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        with _translated():
            values = await self._client.mget(keys)
        return [None if value is None else str(value) for value in values]

    async def set(self, key: str, value: str, ttl: float) -> None:
        with _translated():
            await self._client.set(key, value, px=_milliseconds(ttl))

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        with _translated():
            return bool(await self._client.set(key, value, px=_milliseconds(ttl), nx=True))

    async def delete(self, key: str) -> None:
        with _translated():
            await self._client.delete(key)

    async def incr(self, key: str, ttl: float) -> int:
        with _translated():
            value = await self._counter(keys=[key], args=[_milliseconds(ttl)])
        return int(value)

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        member = f"{time.time():.6f}:{secrets.token_hex(4)}"
        with _translated():
            count, allowed, retry = await self._window(
                keys=[key], args=[time.time(), clamp_ttl(window), limit, member]
            )
        return WindowResult(int(count), bool(allowed), float(retry))

    async def publish(self, channel: str, message: str) -> None:
        with _translated():
            await self._client.publish(channel, message)

    async def ping(self) -> None:
        with _translated():
            await self._client.ping()

    def strict(self) -> Cache:
        return self

    async def close(self) -> None:
        await self._client.aclose()
