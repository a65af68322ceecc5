"""The narrow cache interface: ephemeral state only, everything here can be lost and re-created."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One hit on a sliding window: the hits it now holds, and when room frees up."""

    count: int
    allowed: bool
    retry_after: float


class CacheUnavailable(Exception):
    """The backing store cannot be reached; callers fall back, never fail the request."""


class Cache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def get_many(self, keys: list[str]) -> list[str | None]:
        """Several values in one round trip, in the order of `keys`."""
        ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

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

    async def close(self) -> None: ...
