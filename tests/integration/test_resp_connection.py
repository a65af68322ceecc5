"""The worker's one pipelined Redis connection: order, timeouts, credentials, scripts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
import redis.asyncio as redis

from provider.cache.base import CacheCommandError, CacheUnavailable
from provider.cache.redis import RedisCache
from provider.cache.resp import RespConnection
from tests.support import RedisProcess


async def test_concurrent_commands_each_get_their_own_reply(events_redis_url: str) -> None:
    connection = RespConnection(events_redis_url)
    prefix = f"test:{uuid.uuid4().hex}:"
    await asyncio.gather(*(connection.call("SET", f"{prefix}{i}", str(i)) for i in range(300)))
    values = await asyncio.gather(*(connection.call("GET", f"{prefix}{i}") for i in range(300)))
    assert values == [str(i) for i in range(300)]
    await connection.call("DEL", *(f"{prefix}{i}" for i in range(300)))
    await connection.close()


async def test_an_error_reply_fails_only_its_command(events_redis_url: str) -> None:
    connection = RespConnection(events_redis_url)
    key = f"test:{uuid.uuid4().hex}"
    await connection.call("RPUSH", key, "x")
    results = await asyncio.gather(
        connection.call("PING"),
        connection.call("GET", key),
        connection.call("PING"),
        return_exceptions=True,
    )
    assert results[0] == "PONG"
    assert results[2] == "PONG"
    assert isinstance(results[1], CacheCommandError)
    assert "WRONGTYPE" in str(results[1])
    await connection.call("DEL", key)
    await connection.close()


async def test_a_late_reply_never_reaches_a_later_command(
    redis_process: Callable[..., RedisProcess],
) -> None:
    """A command that times out fails every command waiting on its connection; the next
    command gets a new connection, so the late reply cannot be taken for its own."""
    server = redis_process(None, "--enable-debug-command", "yes")
    connection = RespConnection(server.url, timeout=0.2)
    await connection.call("MSET", "late", "the timed-out command's value", "k", "fresh")
    blocker = redis.Redis.from_url(server.url)
    sleeping = asyncio.create_task(blocker.execute_command("DEBUG", "SLEEP", "0.6"))
    await asyncio.sleep(0.05)
    waiting = await asyncio.gather(
        connection.call("GET", "late"), connection.call("PING"), return_exceptions=True
    )
    assert all(isinstance(result, CacheUnavailable) for result in waiting)
    await sleeping
    assert await connection.call("GET", "k") == "fresh"
    assert await connection.call("PING") == "PONG"
    await blocker.aclose()
    await connection.close()


async def test_credentials_and_database_from_the_url(
    redis_process: Callable[..., RedisProcess],
) -> None:
    server = redis_process(None, "--requirepass", "s3cret")
    url = f"redis://:s3cret@127.0.0.1:{server.port}/2"
    cache = RedisCache(url)
    await cache.set("k", "v", 60)
    raw = redis.Redis.from_url(url, decode_responses=True)
    assert await raw.get("k") == "v"
    await raw.select(0)  # type: ignore[no-untyped-call]
    assert await raw.get("k") is None
    await raw.aclose()
    await cache.close()
    wrong = RedisCache(f"redis://:nope@127.0.0.1:{server.port}/2")
    with pytest.raises(CacheUnavailable, match="setup"):
        await wrong.get("k")
    await wrong.close()


async def test_scripts_load_again_after_the_server_forgot_them(events_redis_url: str) -> None:
    cache = RedisCache(events_redis_url)
    key = f"test:{uuid.uuid4().hex}"
    assert (await cache.hit_window(key, 5, 10)).count == 1
    assert await cache.incr(key + ":n", 10) == 1
    raw = redis.Redis.from_url(events_redis_url)
    await raw.script_flush()
    await raw.aclose()
    assert (await cache.hit_window(key, 5, 10)).count == 2
    assert await cache.incr(key + ":n", 10) == 2
    await cache.close()


async def test_a_dead_server_fails_waiting_commands_and_the_next_one_reconnects(
    redis_process: Callable[..., RedisProcess],
) -> None:
    server = redis_process()
    connection = RespConnection(server.url)
    assert await connection.call("PING") == "PONG"
    port = server.port
    server.stop()
    with pytest.raises(CacheUnavailable):
        await connection.call("PING")
    redis_process(port)
    assert await connection.call("PING") == "PONG"
    await connection.close()
