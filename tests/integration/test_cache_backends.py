"""The Redis backend and the in-memory backend behave alike (the memory one is its fallback)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from provider.cache.base import Cache, CacheUnavailable
from provider.cache.memory import MemoryCache
from provider.cache.redis import RedisCache


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
    await cache.set(key, "v1", 0.3)
    assert await cache.get(key) == "v1"
    await asyncio.sleep(0.4)
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
    values = await asyncio.gather(*(cache.incr(key, 0.5) for _ in range(50)))
    assert sorted(values) == list(range(1, 51))
    assert await cache.get(key) == "50"
    await asyncio.sleep(0.6)
    assert await cache.get(key) is None
    assert await cache.incr(key, 5) == 1
