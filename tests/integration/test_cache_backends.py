"""The Redis backend and the in-memory backend behave alike (the memory one is its fallback)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from provider.cache import fallback
from provider.cache.base import MAX_TTL, Cache, CacheCommandError, CacheUnavailable
from provider.cache.fallback import FallbackCache
from provider.cache.memory import MemoryCache
from provider.cache.redis import RedisCache
from tests.support import redis_server_binary, start_redis
from tests.tcp_proxy import TcpProxy, proxied


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest, events_redis_url: str) -> AsyncIterator[Cache]:
    backend: Cache = MemoryCache() if request.param == "memory" else RedisCache(events_redis_url)
    yield backend
    await backend.close()


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_values_and_their_ttl(cache: Cache, key: str) -> None:
    assert await cache.get(key) is None
    await cache.set(key, "v1", 1)
    assert await cache.get(key) == "v1"
    await asyncio.sleep(1.1)
    assert await cache.get(key) is None


async def test_set_if_absent_and_delete(cache: Cache, key: str) -> None:
    assert await cache.set_if_absent(key, "first", 5) is True
    assert await cache.set_if_absent(key, "second", 5) is False
    assert await cache.get(key) == "first"
    await cache.delete(key)
    assert await cache.get(key) is None
    assert await cache.set_if_absent(key, "third", 5) is True


async def test_sliding_window(cache: Cache, key: str) -> None:
    results = [await cache.hit_window(key, 3, 1.0) for _ in range(4)]
    assert [(r.count, r.allowed) for r in results] == [
        (1, True),
        (2, True),
        (3, True),
        (3, False),
    ]
    assert 0 < results[-1].retry_after <= 1.0
    await asyncio.sleep(results[-1].retry_after + 0.05)
    again = await cache.hit_window(key, 3, 1.0)
    assert again.allowed is True
    await cache.delete(key)
    assert (await cache.hit_window(key, 3, 1.0)).count == 1


@pytest.mark.parametrize("ttl", [1e30, float("inf"), 10 * 365 * 86_400.0])
async def test_a_huge_ttl_is_clamped_in_redis(events_redis_url: str, key: str, ttl: float) -> None:
    """A TTL computed from a request's data (an assertion's exp=1e30) is clamped, not refused:
    a refusal would look like an outage to the fallback cache."""
    cache = RedisCache(events_redis_url)
    await cache.set(key, "v", ttl)
    assert await cache.set_if_absent(key + ":nx", "v", ttl) is True
    assert (await cache.hit_window(key + ":w", 5, ttl)).allowed is True
    raw = redis.Redis.from_url(events_redis_url)
    for name in (key, key + ":nx", key + ":w"):
        assert 0 < await raw.pttl(name) <= MAX_TTL * 1000
    await raw.aclose()
    await cache.close()


@pytest.mark.parametrize("ttl", [0, -5, 1e-9, float("nan"), float("-inf")])
async def test_a_tiny_or_invalid_ttl_is_raised_to_the_minimum(
    cache: Cache, key: str, ttl: float
) -> None:
    await cache.set(key, "v", ttl)
    assert await cache.get(key) == "v"
    assert await cache.set_if_absent(key, "w", ttl) is False
    assert (await cache.hit_window(key + ":w", 5, ttl)).allowed is True


async def test_a_refused_command_is_not_an_outage(events_redis_url: str, key: str) -> None:
    """A command Redis refuses because of its data raises CacheCommandError, not
    CacheUnavailable, so it never trips the fallback's circuit breaker."""
    raw = redis.Redis.from_url(events_redis_url)
    await raw.rpush(key, "x")  # a list: GET on it is a WRONGTYPE error
    await raw.aclose()
    cache = FallbackCache(RedisCache(events_redis_url))
    with pytest.raises(CacheCommandError):
        await cache.get(key)
    # Still served by Redis, not by memory: a value written now is visible to another client.
    await cache.set(key + ":after", "v", 60)
    other = RedisCache(events_redis_url)
    assert await other.get(key + ":after") == "v"
    await other.close()
    await cache.close()


async def test_strict_reads_never_come_from_memory() -> None:
    """With Redis unreachable, the fallback answers from memory but strict() fails."""
    cache = FallbackCache(RedisCache("redis://127.0.0.1:1/0"))
    await cache.set("deny:jti:x", "revoked", 60)  # lands in memory
    assert await cache.get("deny:jti:x") == "revoked"
    for operation in (
        cache.strict().get("deny:jti:x"),
        cache.strict().get_many(["deny:jti:x"]),
        cache.strict().set_if_absent("assertion:x", "1", 60),
    ):
        with pytest.raises(CacheUnavailable):
            await operation
    await cache.close()


@pytest.fixture
async def outage(events_redis_url: str) -> AsyncIterator[tuple[TcpProxy, FallbackCache, Cache]]:
    """A FallbackCache whose Redis is behind a proxy the test stops and starts, and a cache
    that reads that Redis directly."""
    async with proxied(events_redis_url, 6379) as (proxy, url):
        cache, direct = FallbackCache(RedisCache(url)), RedisCache(events_redis_url)
        try:
            yield proxy, cache, direct
        finally:
            await cache.close()
            await direct.close()


async def test_a_write_kept_through_an_outage_reaches_redis_before_the_next_read(
    outage: tuple[TcpProxy, FallbackCache, Cache],
    events_redis_url: str,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fallback, "RETRY_AFTER", 0.2)
    proxy, cache, direct = outage
    await proxy.stop()
    # Neither raises: both are kept in this process.
    await cache.set_eventually(key, "denied", 60)
    await cache.strict().set_eventually(key + ":version", "v2", 60)
    assert await direct.get_many([key, key + ":version"]) == [None, None]
    with pytest.raises(CacheUnavailable):
        await cache.strict().get(key)

    await proxy.start()
    await asyncio.sleep(0.3)  # the breaker lets the primary be tried again

    # The first read that reaches Redis finds them written, not only this process.
    assert await cache.strict().get_many([key, key + ":version"]) == ["denied", "v2"]
    assert await direct.get_many([key, key + ":version"]) == ["denied", "v2"]
    assert 0 < await _ttl(events_redis_url, key) <= 60


async def test_the_readiness_ping_writes_what_was_kept(
    outage: tuple[TcpProxy, FallbackCache, Cache], key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fallback, "RETRY_AFTER", 60.0)
    proxy, cache, direct = outage
    await proxy.stop()
    await cache.set_eventually(key, "denied", 60)
    with pytest.raises(CacheUnavailable):
        await cache.ping()
    await proxy.start()

    # Past the open breaker: a load balancer's /ready sees the recovery and writes the rest.
    await cache.ping()
    assert await direct.get(key) == "denied"


async def test_a_kept_write_redis_refuses_holds_up_nothing(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back from an outage but out of memory, Redis refuses every write: the kept one stays kept,
    and reads still answer."""
    if redis_server_binary() is None:
        pytest.skip("redis-server is not installed")
    monkeypatch.setattr(fallback, "RETRY_AFTER", 0.2)
    full = start_redis(None, "--maxmemory", "1", "--maxmemory-policy", "noeviction")
    try:
        async with proxied(full.url, 6379) as (proxy, url):
            cache = FallbackCache(RedisCache(url))
            try:
                await proxy.stop()
                await cache.set_eventually(key, "denied", 60)
                await proxy.start()
                await asyncio.sleep(0.3)

                assert await cache.strict().get(key + ":other") is None
                await cache.ping()
                with pytest.raises(CacheCommandError):
                    await cache.strict().set(key, "x", 60)
            finally:
                await cache.close()
    finally:
        full.stop()


async def _ttl(redis_url: str, key: str) -> float:
    client = redis.Redis.from_url(redis_url)
    try:
        return float(await client.pttl(key)) / 1000
    finally:
        await client.aclose()


async def test_ping(cache: Cache) -> None:
    await cache.ping()


async def test_redis_publish_reaches_subscribers(events_redis_url: str) -> None:
    channel = f"auth:test.{uuid.uuid4().hex}"
    listener = redis.Redis.from_url(events_redis_url, decode_responses=True)
    pubsub = listener.pubsub()
    await pubsub.subscribe(channel)
    assert (await pubsub.get_message(timeout=5))["type"] == "subscribe"  # type: ignore[index]
    cache = RedisCache(events_redis_url)
    await cache.publish(channel, '{"event": "x"}')
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    assert message is not None
    assert message["data"] == '{"event": "x"}'
    await cache.close()
    await pubsub.aclose()
    await listener.aclose()


async def test_an_unreachable_redis_raises_cache_unavailable() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0")
    for operation in (
        cache.get("k"),
        cache.set("k", "v", 1),
        cache.set_if_absent("k", "v", 1),
        cache.delete("k"),
        cache.hit_window("k", 1, 1),
        cache.publish("c", "m"),
        cache.ping(),
    ):
        with pytest.raises(CacheUnavailable):
            await operation
    await cache.close()


async def test_counters_are_atomic_and_expire_from_their_creation(cache: Cache, key: str) -> None:
    values = await asyncio.gather(*(cache.incr(key, 1.0) for _ in range(50)))
    assert sorted(values) == list(range(1, 51))
    assert await cache.get(key) == "50"
    await asyncio.sleep(1.1)
    assert await cache.get(key) is None
    assert await cache.incr(key, 5) == 1
