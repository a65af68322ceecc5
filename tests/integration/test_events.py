"""Security events are published on Redis as `auth:<event>` for other services to react to."""

from __future__ import annotations

import httpx

from tests.support import PASSWORD, EventCollector, Server, login, register


async def test_token_reuse_is_published(events_server: Server, events_redis_url: str) -> None:
    async with (
        EventCollector(events_redis_url) as events,
        httpx.AsyncClient(base_url=events_server.url, timeout=30) as http,
    ):
        user = await register(http)
        tokens = await login(http)
        rotated = await http.post(
            "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert rotated.status_code == 200
        replay = await http.post(
            "/v1/auth/tokens/refresh",
            json={"refresh_token": tokens["refresh_token"]},
            headers={"X-Request-ID": "replay-1"},
        )
        assert replay.status_code == 401

        reuse = await events.wait_for("auth:token.reuse_detected", request_id="replay-1")
        assert reuse["event"] == "token.reuse_detected"
        assert reuse["outcome"] == "failure"
        assert reuse["user_id"] == user["id"]
        assert reuse["session_id"] == tokens["session"]["id"]
        assert reuse["request_id"] == "replay-1"
        assert reuse["ip"] == "127.0.0.1"
        assert reuse["family_id"]
        assert "refresh_token" not in reuse
        assert tokens["refresh_token"] not in str(events.messages)
        revoked = await events.wait_for("auth:session.revoked", request_id="replay-1")
        assert revoked["reason"] == "reuse_detected"
        for channel in (
            "auth:user.registered",
            "auth:session.created",
            "auth:user.login",
            "auth:token.refreshed",
        ):
            payload = await events.wait_for(channel, user_id=user["id"])
            assert payload["ip"] == "127.0.0.1", channel


async def test_a_lockout_is_published(events_server: Server, events_redis_url: str) -> None:
    async with (
        EventCollector(events_redis_url) as events,
        httpx.AsyncClient(base_url=events_server.url, timeout=30) as http,
    ):
        user = await register(http)
        for _ in range(5):
            response = await http.post(
                "/v1/auth/sessions",
                json={"identifier": "ada@example.com", "password": PASSWORD + "!"},
            )
            assert response.status_code == 401
        locked = await events.wait_for("auth:user.locked", user_id=user["id"])
        assert locked["user_id"] == user["id"]
        assert locked["failures"] == 5
        assert locked["until"]
        failed = await events.wait_for("auth:user.login_failed", user_id=user["id"])
        assert failed["outcome"] == "failure"
        assert PASSWORD not in str(events.messages)
