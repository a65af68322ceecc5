"""Redis dies mid-flight: logins keep working from memory, metrics count it, /ready says so."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis

from tests.support import RedisProcess, Server, bearer, login, register, start_server

pytestmark = pytest.mark.e2e


def _fallbacks(metrics: str) -> float:
    values = re.findall(r"^provider_cache_fallbacks_total\{[^}]*\} ([0-9.e+]+)$", metrics, re.M)
    return sum(float(value) for value in values)


async def test_logins_survive_a_redis_outage(
    base_env: dict[str, str],
    clean: None,
    redis_process: Callable[..., RedisProcess],
    tmp_path: Path,
) -> None:
    cache = redis_process()
    server: Server = await asyncio.to_thread(
        start_server, {**base_env, "PROVIDER_REDIS_URL": cache.url}, tmp_path
    )
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            await register(http)
            before = await login(http)
            assert (await http.get("/ready")).status_code == 200
            # The rate-limit windows really live in this Redis.
            client = redis.Redis.from_url(cache.url)
            assert await client.keys("rl:*")
            await client.aclose()
            assert _fallbacks((await http.get("/metrics")).text) == 0

            cache.stop()

            during = await login(http)
            assert during["session"]["id"] != before["session"]["id"]
            assert (await http.get("/v1/auth/me", headers=bearer(during))).status_code == 200
            refreshed = await http.post(
                "/v1/auth/tokens/refresh", json={"refresh_token": during["refresh_token"]}
            )
            assert refreshed.status_code == 200
            failed = await http.post(
                "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": "nope"}
            )
            assert failed.status_code == 401
            assert _fallbacks((await http.get("/metrics")).text) > 0
            ready = await http.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"] == {"database": "ok", "cache": "unavailable"}
            assert server.process.poll() is None
            assert '"cache unavailable, using memory"' in server.log()

            # Redis comes back on the same address: the server is ready again.
            redis_process(cache.port)
            ready = await http.get("/ready")
            assert ready.status_code == 200
            after = await login(http)
            assert (await http.get("/v1/auth/me", headers=bearer(after))).status_code == 200
    finally:
        server.stop()
