"""Serve from Redis; when Redis fails, log, count and serve from process memory instead.

Rate-limit windows and counters kept in memory during an outage are per worker, which is weaker
but keeps logins working; nothing durable lives in the cache. After a failure Redis is left alone
for a few seconds (a circuit breaker), so an outage costs one timeout, not one per operation.

Only a connection-level failure (CacheUnavailable) trips the breaker. A command Redis refuses
because of its data (CacheCommandError) is that one operation's error: otherwise a request could
switch the whole worker to memory, where revocations written by other workers are not. Reads that
decide security go through `strict()`, which never answers from memory.

A write that must reach Redis (`set_eventually`: a denial of live tokens, a version that
invalidates copies) is kept while Redis cannot take it, and written before the next operation
that reaches Redis, a strict read or `/ready`'s ping included: a denial made during an outage
holds once Redis is back, instead of living in one worker's memory, where no strict read looks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

from provider.cache.base import (
    Cache,
    CacheCommandError,
    CacheUnavailable,
    WindowResult,
    clamp_ttl,
)
from provider.cache.memory import MemoryCache
from provider.ops.metrics import CACHE_FALLBACKS, EVENTS_DROPPED

log = logging.getLogger("provider.cache")
T = TypeVar("T")
RETRY_AFTER = 5.0


class _Breaker:
    """When the primary last failed at connection level, and whether to leave it alone now."""

    def __init__(self) -> None:
        self._skip_until = 0.0

    @property
    def open(self) -> bool:
        return time.monotonic() < self._skip_until

    def trip(self) -> None:
        self._skip_until = time.monotonic() + RETRY_AFTER


class _Unwritten:
    """Writes the primary must get, kept while it cannot be reached: key → (value, expiry)."""

    def __init__(self) -> None:
        self._writes: dict[str, tuple[str, float]] = {}

    def keep(self, key: str, value: str, ttl: float) -> None:
        self._writes[key] = (value, time.monotonic() + ttl)

    async def write(self, primary: Cache) -> None:
        """Write each one still alive, oldest first; raises CacheUnavailable, keeping the rest,
        when the primary is still out of reach. One the primary refuses (out of memory, say)
        stays kept without holding up the operation that tried it."""
        for key, kept in list(self._writes.items()):
            value, expires = kept
            left = expires - time.monotonic()
            if left > 0:
                try:
                    await primary.set(key, value, left)
                except CacheCommandError as exc:
                    log.warning("kept write refused", extra={"key": key, "err": str(exc)})
                    continue
            # Unless the same key was kept again meanwhile, with a newer value.
            if self._writes.get(key) == kept:
                del self._writes[key]

    def __len__(self) -> int:
        return len(self._writes)


class FallbackCache:
    def __init__(self, primary: Cache, fallback: MemoryCache | None = None) -> None:
        self.primary = primary
        self.fallback = fallback or MemoryCache()
        self._breaker = _Breaker()
        self._unwritten = _Unwritten()
        self._strict = StrictCache(primary, self._breaker, self._unwritten)

    def strict(self) -> Cache:
        return self._strict

    async def _run(
        self,
        operation: str,
        primary: Callable[[], Awaitable[T]],
        fallback: Callable[[], Awaitable[T]],
    ) -> T:
        if not self._breaker.open:
            try:
                if self._unwritten:
                    await self._unwritten.write(self.primary)
                return await primary()
            except CacheUnavailable as exc:
                self._breaker.trip()
                log.warning(
                    "cache unavailable, using memory", extra={"op": operation, "err": str(exc)}
                )
        CACHE_FALLBACKS.labels(operation=operation).inc()
        return await fallback()

    async def get(self, key: str) -> str | None:
        return await self._run("get", lambda: self.primary.get(key), lambda: self.fallback.get(key))

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return await self._run(
            "get_many", lambda: self.primary.get_many(keys), lambda: self.fallback.get_many(keys)
        )

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._run(
            "set",
            lambda: self.primary.set(key, value, ttl),
            lambda: self.fallback.set(key, value, ttl),
        )

    async def set_eventually(self, key: str, value: str, ttl: float) -> None:
        await self._strict.set_eventually(key, value, ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        return await self._run(
            "set_if_absent",
            lambda: self.primary.set_if_absent(key, value, ttl),
            lambda: self.fallback.set_if_absent(key, value, ttl),
        )

    async def delete(self, key: str) -> None:
        await self._run(
            "delete", lambda: self.primary.delete(key), lambda: self.fallback.delete(key)
        )

    async def incr(self, key: str, ttl: float) -> int:
        return await self._run(
            "incr", lambda: self.primary.incr(key, ttl), lambda: self.fallback.incr(key, ttl)
        )

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        return await self._run(
            "hit_window",
            lambda: self.primary.hit_window(key, limit, window),
            lambda: self.fallback.hit_window(key, limit, window),
        )

    async def publish(self, channel: str, message: str) -> None:
        await self._run(
            "publish",
            lambda: self.primary.publish(channel, message),
            lambda: self._publish_locally(channel, message),
        )

    async def _publish_locally(self, channel: str, message: str) -> None:
        """In-process subscribers get it; with none, the event is lost and counted as dropped."""
        if not self.fallback.has_subscribers:
            EVENTS_DROPPED.inc()
            return
        await self.fallback.publish(channel, message)

    async def ping(self) -> None:
        await self._strict.ping()

    async def close(self) -> None:
        """Last try for what was kept; what still cannot be written is lost with the process,
        and said so (a denial lost this way lets tokens live until they expire)."""
        if self._unwritten:
            with suppress(CacheUnavailable):
                await self._unwritten.write(self.primary)
            if self._unwritten:
                log.error(
                    "cache unreachable: writes that had to reach it are lost",
                    extra={"writes": len(self._unwritten)},
                )
        await self.primary.close()


class StrictCache:
    """The primary alone, sharing the fallback's breaker: while it is open, fail at once."""

    def __init__(self, primary: Cache, breaker: _Breaker, unwritten: _Unwritten) -> None:
        self._primary = primary
        self._breaker = breaker
        self._unwritten = unwritten

    async def _run(self, operation: Callable[[], Awaitable[T]]) -> T:
        if self._breaker.open:
            raise CacheUnavailable("cache unavailable (circuit open)")
        try:
            if self._unwritten:
                await self._unwritten.write(self._primary)
            return await operation()
        except CacheUnavailable:
            self._breaker.trip()
            raise

    async def get(self, key: str) -> str | None:
        return await self._run(lambda: self._primary.get(key))

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return await self._run(lambda: self._primary.get_many(keys))

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._run(lambda: self._primary.set(key, value, ttl))

    async def set_eventually(self, key: str, value: str, ttl: float) -> None:
        try:
            await self._run(lambda: self._primary.set(key, value, ttl))
        except CacheUnavailable as exc:
            self._unwritten.keep(key, value, clamp_ttl(ttl))
            log.warning("cache unavailable, write kept", extra={"key": key, "err": str(exc)})

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        return await self._run(lambda: self._primary.set_if_absent(key, value, ttl))

    async def delete(self, key: str) -> None:
        await self._run(lambda: self._primary.delete(key))

    async def incr(self, key: str, ttl: float) -> int:
        return await self._run(lambda: self._primary.incr(key, ttl))

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        return await self._run(lambda: self._primary.hit_window(key, limit, window))

    async def publish(self, channel: str, message: str) -> None:
        await self._run(lambda: self._primary.publish(channel, message))

    async def ping(self) -> None:
        """Past the breaker, so that `/ready` sees a recovery at once; what was kept is written
        first (`/ready`, polled by the load balancer, writes it soon after a recovery)."""
        if self._unwritten:
            await self._unwritten.write(self._primary)
        await self._primary.ping()

    def strict(self) -> Cache:
        return self

    async def close(self) -> None:
        """The FallbackCache that owns the primary closes it."""


def build_cache(redis_url: str) -> Cache:
    if not redis_url:
        return MemoryCache()
    from provider.cache.redis import RedisCache

    return FallbackCache(RedisCache(redis_url))
