"""The narrow cache interface: ephemeral state only, everything here can be lost and re-created."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

# Every TTL and window written to a backend is clamped to this range: a value computed from a
# request's data (an assertion's `exp` of 1e30, a negative or NaN remainder) can neither be
# refused by Redis (which would look like an outage) nor live for ever in memory.
MIN_TTL = 1.0
MAX_TTL = 30 * 86_400.0


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One hit on a sliding window: the hits it now holds, and when room frees up."""

    count: int
    allowed: bool
    retry_after: float


def clamp_ttl(ttl: float) -> float:
    """`ttl` within [MIN_TTL, MAX_TTL]; NaN counts as the minimum, infinity as the maximum."""
    if math.isnan(ttl):
        return MIN_TTL
    return min(max(ttl, MIN_TTL), MAX_TTL)


class CacheUnavailable(Exception):
    """The backing store cannot be reached (connection refused, reset, timed out).

    Only this trips the fallback's circuit breaker. Reads that decide security (see
    `Cache.strict`) let it propagate, and their callers fail closed.
    """


class CacheCommandError(Exception):
    """The store was reached but refused the command (a wrong type, a value out of range).

    Caused by the data of one operation, not by the store's health: it never trips the
    circuit breaker and is never answered from the memory fallback.
    """


class Cache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def get_many(self, keys: list[str]) -> list[str | None]:
        """Several values in one round trip, in the order of `keys`."""
        ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def set_eventually(self, key: str, value: str, ttl: float) -> None:
        """`set` for a write that must reach the shared cache, such as a denial of live tokens:
        when the cache cannot take it now, it is kept in this process and written before the
        next operation that reaches the cache (for what is left of `ttl`). The caches
        `build_cache` makes never raise CacheUnavailable here."""
        ...

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to the counter at `key` (new counters expire after `ttl`); its new value."""
        ...

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        """Record one hit in a sliding window of `window` seconds, refused beyond `limit`."""
        ...

    async def publish(self, channel: str, message: str) -> None: ...

    async def ping(self) -> None: ...

    def strict(self) -> Cache:
        """This cache without the in-memory fallback, for reads that must fail closed.

        Operations on it raise CacheUnavailable instead of answering from process memory, where
        another worker's denylist and replay entries are not.
        """
        ...

    async def close(self) -> None: ...
