"""POST /v1/auth/tokens/refresh: rotation, reuse detection, concurrency, dead tokens."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest

from provider.crypto.tokens import token_hash
from provider.storage.models import AuditEvent, RefreshToken, Session
from provider.storage.unit_of_work import utcnow
from tests.support import assert_error, bearer, login, register, row_counts

REFRESH = "/v1/auth/tokens/refresh"


async def _refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(REFRESH, json={"refresh_token": token})


async def _row(token: str) -> RefreshToken:
    return await RefreshToken.get(token_hash=token_hash(token))


async def test_each_refresh_returns_a_new_pair_and_uses_up_the_old_token(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    tokens = await login(client)
    session_id = tokens["session"]["id"]
    chain: list[dict[str, Any]] = [tokens]
    for _ in range(3):
        response = await _refresh(client, chain[-1]["refresh_token"])
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        pair = response.json()
        assert set(pair) == set(tokens)
        assert pair["refresh_token"] != chain[-1]["refresh_token"]
        assert pair["access_token"] != chain[-1]["access_token"]
        assert pair["session"]["id"] == session_id
        chain.append(pair)
    rows = [await _row(pair["refresh_token"]) for pair in chain]
    assert all(row.used_at is not None for row in rows[:-1])
    assert rows[-1].used_at is None
    assert len({row.family_id for row in rows}) == 1
    assert [row.parent_id for row in rows[1:]] == [row.id for row in rows[:-1]]
    assert all(row.revoked_at is None for row in rows)
    assert await AuditEvent.filter(event="token.refreshed").count() == 3
    # The newest access token works; the session is the same one.
    me = await client.get("/v1/auth/me", headers=bearer(chain[-1]))
    assert me.status_code == 200
    assert me.json()["session_id"] == session_id


async def test_reusing_a_used_token_revokes_the_family_and_the_session(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    tokens = await login(client)
    other_session = await login(client)  # another device of the same user
    first = await _refresh(client, tokens["refresh_token"])
    second = await _refresh(client, first.json()["refresh_token"])
    assert second.status_code == 200

    replay = await _refresh(client, tokens["refresh_token"])
    assert_error(replay, 401, "invalid_refresh_token")

    family = await RefreshToken.filter(family_id=(await _row(tokens["refresh_token"])).family_id)
    assert len(family) == 3
    assert all(row.revoked_at is not None for row in family)
    assert {row.revoked_reason for row in family} == {"reuse_detected"}
    session = await Session.get(id=tokens["session"]["id"])
    assert session.compromised_at is not None
    assert session.revoked_at is not None
    assert session.revoked_reason == "reuse_detected"
    reuse = await AuditEvent.filter(event="token.reuse_detected").get()
    assert reuse.outcome == "failure"
    assert str(reuse.user_id) == user["id"]
    assert str(reuse.session_id) == tokens["session"]["id"]
    assert reuse.details["family_id"] == str(family[0].family_id)
    assert await AuditEvent.filter(event="session.revoked").count() == 1

    # Every token and access token of the family's session is dead, the newest included.
    assert_error(await _refresh(client, second.json()["refresh_token"]), 401)
    assert_error(
        await client.get("/v1/auth/me", headers=bearer(second.json())), 401, "session_revoked"
    )
    # The user's other session is untouched.
    assert (await _refresh(client, other_session["refresh_token"])).status_code == 200
    assert (await client.get("/v1/auth/me", headers=bearer(other_session))).status_code == 200


@pytest.mark.parametrize("attempt", range(3))
async def test_two_concurrent_refreshes_with_one_token(
    client: httpx.AsyncClient, attempt: int
) -> None:
    await register(client)
    tokens = await login(client)
    responses = await asyncio.gather(
        _refresh(client, tokens["refresh_token"]), _refresh(client, tokens["refresh_token"])
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 401], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 401)
    assert_error(loser, 401, "invalid_refresh_token")
    # The second use is a reuse: the family, the winner's new token included, is revoked.
    family = await RefreshToken.filter(session_id=tokens["session"]["id"])
    assert len(family) == 2
    assert all(row.revoked_at is not None for row in family)
    session = await Session.get(id=tokens["session"]["id"])
    assert session.compromised_at is not None
    winner = next(r for r in responses if r.status_code == 200)
    assert_error(await _refresh(client, winner.json()["refresh_token"]), 401)
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 1


async def test_an_expired_token_is_refused_without_alarm(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await login(client)
    await RefreshToken.filter(token_hash=token_hash(tokens["refresh_token"])).update(
        expires_at=utcnow() - timedelta(seconds=1)
    )
    before = await row_counts()
    assert_error(await _refresh(client, tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert await row_counts() == before
    row = await _row(tokens["refresh_token"])
    assert row.used_at is None
    assert (await Session.get(id=tokens["session"]["id"])).compromised_at is None


async def test_a_token_of_a_logged_out_session_is_refused(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await login(client)
    assert (await client.post("/v1/auth/logout", headers=bearer(tokens))).status_code == 200
    assert_error(await _refresh(client, tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert (await Session.get(id=tokens["session"]["id"])).compromised_at is None


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_urlsafe(32),  # well-formed, never issued
        "not-a-token",
        "x",
        "🔑" * 10,
        "a" * 512,
        "' OR 1=1 --",
    ],
)
async def test_unknown_or_garbage_tokens_are_refused(client: httpx.AsyncClient, token: str) -> None:
    await register(client)
    await login(client)
    before = await row_counts()
    assert_error(await _refresh(client, token), 401, "invalid_refresh_token")
    assert await row_counts() == before


async def test_an_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await login(client)
    response = await _refresh(client, tokens["access_token"][:512])
    assert response.status_code in (400, 401)
    assert_error(response, response.status_code)
