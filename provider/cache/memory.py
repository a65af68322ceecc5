"""In-process cache with the same behaviour as the Redis backend (embedded default, fallback)."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable

from provider.cache.base import Cache, WindowResult, clamp_ttl

Subscriber = Callable[[str, str], None]


class MemoryCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[str, float]] = {}
        self._windows: dict[str, list[float]] = {}
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    def strict(self) -> Cache:
        """The embedded default has no other store: process memory is the source of truth."""
        return self

    async def get(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        value, expires = item
        if expires <= self._clock():
            del self._values[key]
            return None
        return value

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, self._clock() + clamp_ttl(ttl))

    async def set_eventually(self, key: str, value: str, ttl: float) -> None:
        await self.set(key, value, ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)
        self._windows.pop(key, None)

    async def incr(self, key: str, ttl: float) -> int:
        current = await self.get(key)
        if current is None:
            await self.set(key, "1", ttl)
            return 1
        value = int(current) + 1
        self._values[key] = (str(value), self._values[key][1])
        return value

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        now = self._clock()
        window = clamp_ttl(window)
        hits = self._windows.setdefault(key, [])
        del hits[: bisect.bisect_right(hits, now - window)]
        if len(hits) >= limit:
            return WindowResult(len(hits), False, max(hits[0] + window - now, 0.0))
        hits.append(now)
        self._sweep(now, window)
        return WindowResult(len(hits), True, 0.0)

    async def publish(self, channel: str, message: str) -> None:
        for subscriber in self._subscribers:
            subscriber(channel, message)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _sweep(self, now: float, window: float) -> None:
        """Drop empty windows now and then, so memory stays bounded under many keys."""
        if len(self._windows) < 10_000:
            return
        for key in [k for k, hits in self._windows.items() if not hits or hits[-1] < now - window]:
            del self._windows[key]
        for key in [k for k, (_, exp) in self._values.items() if exp <= now]:
            del self._values[key]
