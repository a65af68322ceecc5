"""The in-memory cache (embedded default and Redis fallback), rate limits and the fallback."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from provider.cache.base import MAX_TTL, CacheCommandError, CacheUnavailable, WindowResult
from provider.cache.fallback import FallbackCache, build_cache
from provider.cache.memory import MemoryCache
from provider.cache.ratelimit import Allowance, Limit, enforce
from provider.domain_errors import RateLimited
from provider.http.errors import api_error


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> MemoryCache:
    return MemoryCache(clock=clock)


async def test_window_allows_up_to_the_limit_then_refuses(cache: MemoryCache) -> None:
    results = [await cache.hit_window("k", 3, 60) for _ in range(3)]
    assert [(r.count, r.allowed) for r in results] == [(1, True), (2, True), (3, True)]
    refused = await cache.hit_window("k", 3, 60)
    assert refused.allowed is False
    assert refused.count == 3
    assert refused.retry_after == pytest.approx(60)


async def test_window_slides_one_hit_at_a_time(cache: MemoryCache, clock: Clock) -> None:
    await cache.hit_window("k", 2, 10)  # t=1000
    clock.now += 4
    await cache.hit_window("k", 2, 10)  # t=1004
    clock.now += 2
    refused = await cache.hit_window("k", 2, 10)  # t=1006: the first hit frees up at 1010
    assert refused.allowed is False
    assert refused.retry_after == pytest.approx(4)
    clock.now += 4.01  # t=1010.01: the first hit left the window, the second is still in
    allowed = await cache.hit_window("k", 2, 10)
    assert allowed == WindowResult(2, True, 0.0)
    assert (await cache.hit_window("k", 2, 10)).allowed is False


async def test_refused_hits_are_not_counted(cache: MemoryCache, clock: Clock) -> None:
    await cache.hit_window("k", 1, 10)
    for _ in range(5):
        assert (await cache.hit_window("k", 1, 10)).allowed is False
    clock.now += 10.01
    assert (await cache.hit_window("k", 1, 10)).allowed is True


async def test_windows_are_per_key(cache: MemoryCache) -> None:
    await cache.hit_window("a", 1, 60)
    assert (await cache.hit_window("a", 1, 60)).allowed is False
    assert (await cache.hit_window("b", 1, 60)).allowed is True


async def test_delete_clears_a_window(cache: MemoryCache) -> None:
    await cache.hit_window("k", 1, 60)
    await cache.delete("k")
    assert (await cache.hit_window("k", 1, 60)).allowed is True


async def test_values_expire_after_their_ttl(cache: MemoryCache, clock: Clock) -> None:
    await cache.set("k", "v", 5)
    assert await cache.get("k") == "v"
    clock.now += 4.9
    assert await cache.get("k") == "v"
    clock.now += 0.2
    assert await cache.get("k") is None


async def test_set_if_absent(cache: MemoryCache, clock: Clock) -> None:
    assert await cache.set_if_absent("k", "first", 5) is True
    assert await cache.set_if_absent("k", "second", 5) is False
    assert await cache.get("k") == "first"
    clock.now += 6
    assert await cache.set_if_absent("k", "third", 5) is True
    assert await cache.get("k") == "third"


async def test_publish_reaches_subscribers(cache: MemoryCache) -> None:
    received: list[tuple[str, str]] = []
    cache.subscribe(lambda channel, message: received.append((channel, message)))
    await cache.publish("auth:user.login", "{}")
    assert received == [("auth:user.login", "{}")]


async def test_many_idle_windows_are_swept(cache: MemoryCache, clock: Clock) -> None:
    for index in range(10_000):
        await cache.hit_window(f"k{index}", 5, 1)
    clock.now += 2
    await cache.hit_window("fresh", 5, 1)
    assert len(cache._windows) < 10  # only the live window is left


async def test_enforce_returns_the_room_left_then_raises(cache: MemoryCache) -> None:
    limit = Limit("login_ip", 2, 60)
    assert await enforce(cache, limit, "1.2.3.4") == Allowance(limit=2, remaining=1, reset=60)
    assert (await enforce(cache, limit, "1.2.3.4")).remaining == 0
    with pytest.raises(RateLimited) as raised:
        await enforce(cache, limit, "1.2.3.4")
    error = raised.value
    assert (error.code, error.retry_after, error.limit) == ("rate_limited", 60, 2)
    assert error.details == {"retry_after": 60}
    answer = api_error(error)
    assert answer.status == 429
    assert answer.headers["Retry-After"] == "60"
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    # Another key has its own budget.
    assert (await enforce(cache, limit, "5.6.7.8")).remaining == 1


class BrokenCache:
    """A primary that is down: every operation raises CacheUnavailable."""

    async def _fail(self, *args: object, **kwargs: object) -> None:
        raise CacheUnavailable("connection refused")

    get = get_many = set = set_if_absent = delete = hit_window = publish = ping = _fail

    async def close(self) -> None:
        return None


async def test_fallback_serves_from_memory_when_the_primary_is_down(clock: Clock) -> None:
    memory = MemoryCache(clock=clock)
    cache = FallbackCache(BrokenCache(), memory)  # type: ignore[arg-type]
    before = REGISTRY.get_sample_value("provider_cache_fallbacks_total", {"operation": "get"})
    await cache.set("k", "v", 10)
    assert await cache.get("k") == "v"
    assert await cache.set_if_absent("k", "w", 10) is False
    assert (await cache.hit_window("w", 1, 10)).allowed is True
    assert (await cache.hit_window("w", 1, 10)).allowed is False
    await cache.publish("auth:x", "{}")
    await cache.delete("k")
    assert await cache.get("k") is None
    after = REGISTRY.get_sample_value("provider_cache_fallbacks_total", {"operation": "get"})
    assert after == (before or 0) + 2
    # Readiness reports the outage instead of hiding it behind the fallback.
    with pytest.raises(CacheUnavailable):
        await cache.ping()


@pytest.mark.parametrize("ttl", [1e30, float("inf")])
async def test_memory_ttls_are_clamped(cache: MemoryCache, clock: Clock, ttl: float) -> None:
    await cache.set("k", "v", ttl)
    assert await cache.set_if_absent("nx", "v", ttl) is True
    clock.now += MAX_TTL - 1
    assert await cache.get("k") == "v"
    clock.now += 2
    assert await cache.get("k") is None
    assert await cache.get("nx") is None


class RefusingCache(BrokenCache):
    """A primary that is reachable but refuses every command (as Redis does a bad argument)."""

    async def _refuse(self, *args: object, **kwargs: object) -> None:
        raise CacheCommandError("ERR invalid expire time")

    get = set = set_if_absent = delete = hit_window = publish = _refuse


async def test_a_command_error_does_not_trip_the_breaker(clock: Clock) -> None:
    primary = RefusingCache()
    cache = FallbackCache(primary, MemoryCache(clock=clock))  # type: ignore[arg-type]
    before = REGISTRY.get_sample_value("provider_cache_fallbacks_total", {"operation": "get"})
    for _ in range(3):
        with pytest.raises(CacheCommandError):
            await cache.set_if_absent("k", "v", 1e30)
        with pytest.raises(CacheCommandError):
            await cache.get("k")
    after = REGISTRY.get_sample_value("provider_cache_fallbacks_total", {"operation": "get"})
    assert (after or 0) == (before or 0)  # never answered from memory


async def test_strict_fails_closed_while_the_breaker_is_open(clock: Clock) -> None:
    memory = MemoryCache(clock=clock)
    cache = FallbackCache(BrokenCache(), memory)  # type: ignore[arg-type]
    await cache.set("deny:jti:x", "revoked", 60)  # trips the breaker; kept in memory
    with pytest.raises(CacheUnavailable):
        await cache.strict().get("deny:jti:x")
    with pytest.raises(CacheUnavailable):
        await cache.strict().set_if_absent("assertion:a", "1", 60)
    # The embedded default has nothing else: memory is its strict store.
    assert memory.strict() is memory


def _dropped() -> float:
    return REGISTRY.get_sample_value("provider_events_dropped_total") or 0.0


async def test_events_published_to_memory_without_subscribers_are_dropped(clock: Clock) -> None:
    cache = FallbackCache(BrokenCache(), MemoryCache(clock=clock))  # type: ignore[arg-type]
    before = _dropped()
    await cache.publish("auth:user.login", "{}")
    await cache.publish("auth:user.login", "{}")
    assert _dropped() == before + 2
    received: list[str] = []
    cache.fallback.subscribe(lambda channel, message: received.append(channel))
    await cache.publish("auth:user.login", "{}")
    assert received == ["auth:user.login"]
    assert _dropped() == before + 2


async def test_build_cache_picks_the_backend() -> None:
    assert isinstance(build_cache(""), MemoryCache)
    redis_backed = build_cache("redis://127.0.0.1:1/0")
    assert isinstance(redis_backed, FallbackCache)
    await redis_backed.close()


async def test_a_counter_keeps_the_expiry_of_its_first_increment(
    cache: MemoryCache, clock: Clock
) -> None:
    assert await cache.incr("n", 10) == 1
    clock.now += 6
    assert await cache.incr("n", 10) == 2
    clock.now += 5
    assert await cache.incr("n", 10) == 1
