"""Per-worker copies of rows that are read on every request, checked against a version key in the
shared cache before each use.

A writer that changes a row moves its version key on once its transaction has committed
(`announce_change`; the unit of work does it for the rows it was told of), so every worker of
every instance finds its copy stale at its next read and loads the row again. A notice the cache
cannot take is kept and written once it answers; a copy is also dropped after `max_age` seconds,
which bounds a notice lost with the process that kept it. When the version cannot be read, every
copy is dropped and the row is read from its source: a copy is only ever used when the cache
vouches for it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from provider.cache.base import MAX_TTL, Cache, CacheUnavailable

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Copy(Generic[T]):
    version: str | None
    loaded_at: float
    value: T


@dataclass(frozen=True, slots=True)
class ReadVersion:
    """A version a caller read from the cache itself (with other keys, in one round trip);
    `value` is None when the key was absent."""

    value: str | None


class LocalCopies(Generic[T]):
    """Copies of one kind of row (`namespace`), held in this process only."""

    def __init__(
        self,
        namespace: str,
        *,
        enabled: bool,
        max_age: float = 60.0,
        max_entries: int = 10_000,
    ) -> None:
        self._namespace = namespace
        self.enabled = enabled
        self._max_age = max_age
        self._max_entries = max_entries
        self._copies: dict[str, _Copy[T]] = {}

    def version_key(self, name: str) -> str:
        """The cache key whose value is the version of the row(s) named `name`."""
        return version_key(self._namespace, name)

    async def get(
        self,
        cache: Cache,
        key: str,
        load: Callable[[], Awaitable[T | None]],
        *,
        read: ReadVersion | None = None,
    ) -> T | None:
        """The row at `key`: this worker's copy while its version is current, else `load()`.
        Nothing is kept for a row `load` does not find. `read`: the version, read already."""
        if not self.enabled:
            return await load()
        if read is not None:
            return await self.current(key, read.value, load)
        try:
            # Read before the row: a change committed after this read moves the version on, so
            # a copy loaded meanwhile is stale at the next read rather than kept.
            version = await cache.strict().get(self.version_key(key))
        except CacheUnavailable:
            self.forget()
            return await load()
        return await self.current(key, version, load)

    async def current(
        self,
        key: str,
        version: str | None,
        load: Callable[[], Awaitable[T | None]],
        *,
        usable: Callable[[T], bool] = lambda _: True,
    ) -> T | None:
        """`get` for a caller that has read the version itself (`version_key`), before loading
        anything: a copy made at another version, older than `max_age` or not `usable` is
        loaded again."""
        now = time.monotonic()
        copy = self._copies.get(key)
        if (
            copy is not None
            and copy.version == version
            and now - copy.loaded_at < self._max_age
            and usable(copy.value)
        ):
            return copy.value
        value = await load()
        if value is None or not self.enabled:
            self._copies.pop(key, None)
            return value
        if len(self._copies) >= self._max_entries:
            self._copies.clear()
        self._copies[key] = _Copy(version, now, value)
        return value

    def forget(self) -> None:
        """Drop every copy (their versions could not be checked)."""
        self._copies.clear()


def version_key(namespace: str, name: str) -> str:
    return f"version:{namespace}:{name}"


async def announce_change(cache: Cache, version_key: str) -> None:
    """Move the version at `version_key` on: every copy made at the old one is stale."""
    # Kept through an outage and written once the cache answers again (`set_eventually`).
    await cache.set_eventually(version_key, secrets.token_hex(8), MAX_TTL)
