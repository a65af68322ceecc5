"""Register, sign in, use and rotate tokens, sign out: the happy path and its audit trail."""

from __future__ import annotations

import httpx

from provider.storage.models import AuditEvent, RefreshToken, Session
from tests.support import bearer, login, register


async def test_register_login_me_refresh_logout(client: httpx.AsyncClient) -> None:
    user = await register(client, username="ada")
    assert user["email"] == "ada@example.com"
    assert user["email_verified"] is False

    tokens = await login(client, "ADA")
    assert tokens["token_type"] == "Bearer"
    assert tokens["session"]["current"] is True

    me = await client.get("/v1/auth/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["user"]["id"] == user["id"]

    rotated = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert await RefreshToken.filter(used_at__isnull=False).count() == 1

    out = await client.post("/v1/auth/logout", headers=bearer(rotated.json()))
    assert out.status_code == 200
    assert (await client.get("/v1/auth/me", headers=bearer(tokens))).status_code == 401
    session = await Session.get(id=tokens["session"]["id"])
    assert session.revoked_reason == "logout"
    assert await RefreshToken.filter(revoked_at__isnull=True).count() == 0
    events = await AuditEvent.all().order_by("id").values_list("event", flat=True)
    assert events == [
        "user.registered",
        "session.created",
        "user.login",
        "token.refreshed",
        "session.revoked",
        "user.logout",
    ]


async def test_refresh_reuse_revokes_family(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await login(client)
    first = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert first.status_code == 200
    replay = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "invalid_refresh_token"
    # The child issued before the replay is dead too: the family is revoked.
    child = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert child.status_code == 401
    session = await Session.get(id=tokens["session"]["id"])
    assert session.compromised_at is not None
    assert session.revoked_at is not None
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 1
