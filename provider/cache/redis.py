"""Redis backend through redis-py's `redis.asyncio` (aioredis is abandoned and fails on 3.11)."""

from __future__ import annotations

import secrets
import time

import redis.asyncio as redis
from redis.exceptions import RedisError

from provider.cache.base import CacheUnavailable, WindowResult

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


class RedisCache:
    def __init__(self, url: str) -> None:
        self._client: redis.Redis = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._window = self._client.register_script(_SLIDING_WINDOW)
        self._counter = self._client.register_script(_COUNTER)

    async def get(self, key: str) -> str | None:
        try:
            value = await self._client.get(key)
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        return None if value is None else str(value)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        try:
            values = await self._client.mget(keys)
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        return [None if value is None else str(value) for value in values]

    async def set(self, key: str, value: str, ttl: float) -> None:
        try:
            await self._client.set(key, value, px=max(int(ttl * 1000), 1))
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        try:
            return bool(await self._client.set(key, value, px=max(int(ttl * 1000), 1), nx=True))
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete(key)
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def incr(self, key: str, ttl: float) -> int:
        try:
            value = await self._counter(keys=[key], args=[max(int(ttl * 1000), 1)])
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        return int(value)

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        member = f"{time.time():.6f}:{secrets.token_hex(4)}"
        try:
            count, allowed, retry = await self._window(
                keys=[key], args=[time.time(), window, limit, member]
            )
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        return WindowResult(int(count), bool(allowed), float(retry))

    async def publish(self, channel: str, message: str) -> None:
        try:
            await self._client.publish(channel, message)
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._client.aclose()
