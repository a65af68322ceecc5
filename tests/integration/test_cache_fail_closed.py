"""Reads that decide security fail closed: the denylist, the assertion replay cache, the lock.

A request's data cannot switch the cache to process memory (a huge assertion `exp` once made
Redis refuse a TTL, which tripped the circuit breaker and hid every revocation for 5 s), and an
unreachable Redis refuses instead of answering from a memory where no revocation is.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from provider.cache.redis import RedisCache
from provider.oauth.issuance import DENYLIST_PREFIX
from provider.storage.models import AuditEvent
from tests.assertions import jwt_client, sign_assertion, with_assertion
from tests.integration.test_ops import sample
from tests.oidc import (
    Browser,
    RegisteredClient,
    decode_jwt,
    key_set,
    redeem_code,
    register_client,
    sign_in_and_get_code,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, bearer, register
from tests.tcp_proxy import proxied

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


async def _user_tokens(server: Server, http: httpx.AsyncClient) -> tuple[RegisteredClient, Any]:
    await register(http)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, "ada@example.com", PASSWORD)
    return rp, tokens


async def test_a_huge_assertion_exp_is_refused_and_revocations_still_hold(
    server: Server, client: httpx.AsyncClient, rsa_key: RSAKey
) -> None:
    rp, tokens = await _user_tokens(server, client)
    access = tokens["access_token"]
    revoked = await client.post("/revoke", data={"token": access}, auth=rp.basic())
    assert revoked.status_code == 200
    assert (await client.get("/userinfo", headers=bearer(access))).status_code == 401

    service = await jwt_client(rsa_key)
    for exp in (1e30, 2**63, int(time.time()) + 10 * 365 * 86_400):
        assertion = sign_assertion(rsa_key, service.client_id, server.url + "/token", exp=exp)
        response = await client.post(
            "/token", data=with_assertion(service.client_id, assertion, **CLIENT_CREDENTIALS)
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        # Right after it, the revoked token is still refused: the denylist is still in Redis.
        after = await client.get("/userinfo", headers=bearer(access))
        assert after.status_code == 401, after.text
        assert after.json()["error"] == "invalid_token"
    assert await AuditEvent.filter(event="token.issued", client_id=service.client_id).count() == 0
    assert '"cache unavailable, using memory"' not in server.log()


async def test_an_unreachable_cache_fails_closed(server_with, rsa_key: RSAKey) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(redis_url=UNREACHABLE_REDIS)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        rp, tokens = await _user_tokens(server, http)
        access = tokens["access_token"]

        # The denylist cannot be read: userinfo refuses with 503 + Retry-After (never 200).
        response = await http.get("/userinfo", headers=bearer(access))
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "temporarily_unavailable"
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["cache-control"] == "no-store"

        # Revoking it cannot reach the denylist: 503, the client retries (RFC 7009 §2.2.1).
        response = await http.post("/revoke", data={"token": access}, auth=rp.basic())
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "temporarily_unavailable"

        # Introspection cannot vouch for it either.
        response = await http.post("/introspect", data={"token": access}, auth=rp.basic())
        assert response.status_code == 200
        assert response.json() == {"active": False}

        # The assertion replay cache cannot be written: private_key_jwt answers 503.
        service = await jwt_client(rsa_key)
        assertion = sign_assertion(rsa_key, service.client_id, server.url + "/token")
        response = await http.post(
            "/token", data=with_assertion(service.client_id, assertion, **CLIENT_CREDENTIALS)
        )
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "temporarily_unavailable"
        assert "retry-after" in response.headers

        # The lock of an unknown identifier cannot be read: refused, not let through.
        response = await http.post(
            "/v1/auth/sessions", json={"identifier": "nobody@example.com", "password": "nope"}
        )
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "temporarily_unavailable"


async def test_events_lost_during_an_outage_are_counted(server_with) -> None:  # type: ignore[no-untyped-def]
    """With Redis down, events go to the memory backend, which has no subscribers: dropped."""
    server: Server = await server_with(redis_url=UNREACHABLE_REDIS)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        before = sample((await http.get("/metrics")).text, "provider_events_dropped_total") or 0
        await register(http, email="grace@example.com")
        # Publishing runs after the response: read until it has happened (or give up).
        for _ in range(50):
            metrics = (await http.get("/metrics")).text
            after = sample(metrics, "provider_events_dropped_total") or 0
            if after > before:
                break
        assert after >= before + 1
        assert (sample(metrics, "provider_cache_fallbacks_total", operation="publish") or 0) >= 1


async def test_a_denial_made_during_an_outage_holds_once_redis_is_back(  # type: ignore[no-untyped-def]
    server_with, redis_url: str
) -> None:
    """A code replayed while Redis is down denies the access token its first use issued: the
    denial is kept by the worker and written when Redis answers again, not left in its memory."""
    if not redis_url:
        pytest.skip("the outage is simulated in front of the test Redis")
    async with proxied(redis_url, 6379) as (proxy, proxied_url):
        server: Server = await server_with(redis_url=proxied_url)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            await register(http)
            rp = await register_client()
            async with Browser.open(server.url) as browser:
                result, _ = await sign_in_and_get_code(browser, rp, "ada@example.com", PASSWORD)
            first = await redeem_code(http, rp, result["code"])
            assert first.status_code == 200, first.text
            access = first.json()["access_token"]
            assert (await http.get("/userinfo", headers=bearer(access))).status_code == 200

            await proxy.stop()
            replayed = await redeem_code(http, rp, result["code"])
            assert replayed.status_code == 400, replayed.text
            assert replayed.json()["error"] == "invalid_grant"
            await proxy.start()

            # 503 while the worker leaves Redis alone after the outage; then refused for good.
            deadline = time.monotonic() + 20
            while (info := await http.get("/userinfo", headers=bearer(access))).status_code == 503:
                assert time.monotonic() < deadline, info.text
                await asyncio.sleep(0.2)
            assert info.status_code == 401, info.text
            jti = decode_jwt(access, await key_set(http))[1]["jti"]
            denied = RedisCache(redis_url)
            try:
                assert await denied.get(DENYLIST_PREFIX + jti) == "code_reuse"
            finally:
                await denied.close()
