"""POST /v1/auth/sessions: sign in by email or username; failures reveal nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from provider.storage.models import AuditEvent, RefreshToken, Session, User
from provider.storage.unit_of_work import utcnow
from tests.support import PASSWORD, assert_error, bearer, register, row_counts

LOGIN = "/v1/auth/sessions"


@pytest.mark.parametrize("identifier", ["ada@example.com", " ADA@Example.com ", "ada", "ADA"])
async def test_login_by_email_or_username(client: httpx.AsyncClient, identifier: str) -> None:
    user = await register(client, username="ada")
    response = await client.post(LOGIN, json={"identifier": identifier, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "user",
        "session",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["user"]["id"] == user["id"]
    assert body["session"]["current"] is True
    assert body["access_token"].count(".") == 2
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url
    session = await Session.get(id=body["session"]["id"])
    assert str(session.user_id) == user["id"]
    assert session.amr == ["pwd"]
    token = await RefreshToken.get(session_id=session.id)
    assert token.token_hash != body["refresh_token"]  # stored by hash only
    assert body["refresh_token"] not in token.token_hash
    me = await client.get("/v1/auth/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json()["user"]["id"] == user["id"]
    assert me.json()["session_id"] == body["session"]["id"]


async def test_unknown_user_and_wrong_password_look_the_same(client: httpx.AsyncClient) -> None:
    await register(client, username="ada")
    run = uuid.uuid4().hex[:8]  # unknown identifiers of this run only (lockout counters)
    attempts = [
        {"identifier": "ada@example.com", "password": "wrong password 1"},
        {"identifier": "ada", "password": "wrong password 2"},
        {"identifier": f"nobody-{run}@example.com", "password": PASSWORD},
        {"identifier": f"nobody-{run}", "password": PASSWORD},
        {"identifier": f"not an identifier {run}!", "password": PASSWORD},
    ]
    bodies = []
    for attempt in attempts:
        response = await client.post(LOGIN, json=attempt)
        error = assert_error(response, 401, "invalid_credentials")
        bodies.append(({k: v for k, v in error.items() if k != "request_id"}, response.headers))
    assert all(body == bodies[0][0] for body, _ in bodies)
    assert "details" not in bodies[0][0]
    header_sets = [{k for k in headers if not k.startswith("x-request")} for _, headers in bodies]
    assert all(names == header_sets[0] for names in header_sets)
    assert await Session.all().count() == 0
    failed = await AuditEvent.filter(event="user.login_failed").order_by("id")
    assert len(failed) == len(attempts)
    assert [e.user_id is not None for e in failed] == [True, True, False, False, False]


async def test_a_soft_deleted_user_is_refused(client: httpx.AsyncClient) -> None:
    user = await register(client)
    await User.filter(id=user["id"]).update(deleted_at=utcnow())
    before = await row_counts()
    response = await client.post(
        LOGIN, json={"identifier": "ada@example.com", "password": PASSWORD}
    )
    assert_error(response, 403, "account_disabled")
    after = await row_counts()
    assert after["Session"] == before["Session"]
    assert after["RefreshToken"] == before["RefreshToken"]
    event = await AuditEvent.filter(event="user.login_failed").get()
    assert event.details == {"reason": "deleted"}
    assert event.outcome == "failure"


async def test_a_deleted_users_existing_session_stops_working(client: httpx.AsyncClient) -> None:
    user = await register(client)
    tokens = await _login(client)
    await User.filter(id=user["id"]).update(deleted_at=utcnow())
    assert_error(await client.get("/v1/auth/me", headers=bearer(tokens)), 401, "session_revoked")
    refresh = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert_error(refresh, 401, "invalid_refresh_token")


async def test_a_locked_user_is_refused_with_423(client: httpx.AsyncClient) -> None:
    from datetime import timedelta

    user = await register(client)
    await User.filter(id=user["id"]).update(locked_until=utcnow() + timedelta(minutes=5))
    response = await client.post(
        LOGIN, json={"identifier": "ada@example.com", "password": PASSWORD}
    )
    error = assert_error(response, 423, "account_locked")
    retry_after = int(response.headers["retry-after"])
    assert 290 <= retry_after <= 301
    assert error["details"] == {"retry_after": retry_after}
    assert await Session.all().count() == 0
    # A lock in the past is no lock.
    await User.filter(id=user["id"]).update(locked_until=utcnow() - timedelta(seconds=1))
    assert (await _login_response(client)).status_code == 200


async def test_login_writes_session_and_login_audit_rows(client: httpx.AsyncClient) -> None:
    user = await register(client)
    tokens = await _login(client)
    events = await AuditEvent.filter(user_id=user["id"]).order_by("id")
    assert [e.event for e in events] == ["user.registered", "session.created", "user.login"]
    login_event = events[-1]
    assert str(login_event.session_id) == tokens["session"]["id"]
    assert login_event.client_id == "first-party"
    assert login_event.details == {"method": "password", "amr": ["pwd"]}


async def _login_response(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(LOGIN, json={"identifier": "ada@example.com", "password": PASSWORD})


async def _login(client: httpx.AsyncClient) -> dict[str, object]:
    response = await _login_response(client)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body
