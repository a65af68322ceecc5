"""Per-worker copies checked against a version key: two LocalCopies on one cache are two workers."""

from __future__ import annotations

from provider.cache.base import Cache, CacheUnavailable
from provider.cache.local_copies import LocalCopies, ReadVersion, announce_change
from provider.cache.memory import MemoryCache


class Rows:
    """The source of truth, counting its reads."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {"rp": "enabled"}
        self.reads = 0

    def loader(self, key: str):  # type: ignore[no-untyped-def]
        async def load() -> str | None:
            self.reads += 1
            return self.rows.get(key)

        return load


class Unreachable(MemoryCache):
    async def get(self, key: str) -> str | None:
        raise CacheUnavailable("down")

    def strict(self) -> Cache:
        return self


async def test_a_copy_is_used_until_another_worker_announces_a_change() -> None:
    cache, rows = MemoryCache(), Rows()
    first, second = LocalCopies[str]("t", enabled=True), LocalCopies[str]("t", enabled=True)
    assert await first.get(cache, "rp", rows.loader("rp")) == "enabled"
    assert await second.get(cache, "rp", rows.loader("rp")) == "enabled"
    assert await second.get(cache, "rp", rows.loader("rp")) == "enabled"
    assert rows.reads == 2

    rows.rows["rp"] = "disabled"
    await announce_change(cache, first.version_key("rp"))
    assert await second.get(cache, "rp", rows.loader("rp")) == "disabled"
    assert await first.get(cache, "rp", rows.loader("rp")) == "disabled"
    assert rows.reads == 4


async def test_nothing_is_kept_for_a_missing_row_or_when_disabled() -> None:
    cache, rows = MemoryCache(), Rows()
    copies = LocalCopies[str]("t", enabled=True)
    assert await copies.get(cache, "gone", rows.loader("gone")) is None
    rows.rows["gone"] = "back"
    assert await copies.get(cache, "gone", rows.loader("gone")) == "back"
    off = LocalCopies[str]("t", enabled=False)
    for _ in range(3):
        await off.get(cache, "rp", rows.loader("rp"))
    assert rows.reads == 5


async def test_a_copy_expires_and_is_never_used_without_the_cache() -> None:
    cache, rows = MemoryCache(), Rows()
    copies = LocalCopies[str]("t", enabled=True, max_age=0.0)
    await copies.get(cache, "rp", rows.loader("rp"))
    await copies.get(cache, "rp", rows.loader("rp"))
    assert rows.reads == 2

    cached = LocalCopies[str]("t", enabled=True)
    await cached.get(cache, "rp", rows.loader("rp"))
    rows.rows["rp"] = "disabled"
    # The version cannot be read: the row is, and the stale copy is dropped.
    assert await cached.get(Unreachable(), "rp", rows.loader("rp")) == "disabled"
    assert await cached.get(cache, "rp", rows.loader("rp")) == "disabled"


async def test_a_version_read_by_the_caller_decides_like_one_read_here() -> None:
    cache, rows = MemoryCache(), Rows()
    copies = LocalCopies[str]("t", enabled=True)
    await copies.get(cache, "rp", rows.loader("rp"))
    version = await cache.get(copies.version_key("rp"))
    assert await copies.get(cache, "rp", rows.loader("rp"), read=ReadVersion(version)) == "enabled"
    assert rows.reads == 1
    rows.rows["rp"] = "disabled"
    assert await copies.get(cache, "rp", rows.loader("rp"), read=ReadVersion("moved on")) == (
        "disabled"
    )
    assert rows.reads == 2
