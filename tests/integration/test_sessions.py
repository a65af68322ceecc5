"""Sessions: /me, "your devices", signing out one, others or all, and the session limits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, RefreshToken, Session
from provider.storage.unit_of_work import utcnow
from tests.support import PASSWORD, Server, assert_error, bearer, login, register, row_counts

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _sessions(http: httpx.AsyncClient, tokens: dict[str, Any]) -> list[dict[str, Any]]:
    response = await http.get("/v1/auth/sessions", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    sessions: list[dict[str, Any]] = response.json()["sessions"]
    return sessions


async def _refresh(http: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await http.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )


# --- /me ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "unauthorized"),
        ("Bearer", "unauthorized"),
        ("Basic YWRhOnB3", "unauthorized"),
        ("Bearer not.a.jwt", "invalid_token"),
        ("Bearer " + "a" * 2000, "invalid_token"),
    ],
)
async def test_me_needs_a_valid_bearer_token(
    client: httpx.AsyncClient, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/v1/auth/me", headers=headers)
    assert_error(response, 401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_me_returns_the_signed_in_user(client: httpx.AsyncClient) -> None:
    user = await register(client, username="ada")
    tokens = await login(client)
    response = await client.get("/v1/auth/me", headers=bearer(tokens))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body == {
        "user": user,
        "profile": {
            "name": "Ada",
            "given_name": None,
            "family_name": None,
            "username": "ada",
            "locale": None,
            "zoneinfo": None,
            "picture": None,
            "phone_number": None,
            "address": None,
            "updated_at": body["profile"]["updated_at"],
        },
        "session_id": tokens["session"]["id"],
    }


# --- your devices --------------------------------------------------------------------------------


async def test_sessions_list_the_users_devices(client: httpx.AsyncClient) -> None:
    await register(client)
    await register(client, email="grace@example.com")
    laptop = await login(client, **{"User-Agent": CHROME_WINDOWS})
    await login(client, "grace@example.com", **{"User-Agent": CHROME_WINDOWS})
    phone = await login(client, **{"User-Agent": FIREFOX_LINUX})
    revoked = await login(client, **{"User-Agent": "curl/8.5.0"})
    assert (await client.post("/v1/auth/logout", headers=bearer(revoked))).status_code == 200

    listed = await _sessions(client, laptop)
    assert [s["id"] for s in listed] == [phone["session"]["id"], laptop["session"]["id"]]
    by_id = {s["id"]: s for s in listed}
    current = by_id[laptop["session"]["id"]]
    other = by_id[phone["session"]["id"]]
    assert current["current"] is True
    assert other["current"] is False
    assert current["device"] == "Chrome on Windows"
    assert other["device"] == "Firefox on Linux"
    assert current["user_agent"] == CHROME_WINDOWS
    for session in listed:
        assert set(session) == {
            "id",
            "device",
            "user_agent",
            "ip",
            "created_at",
            "last_active_at",
            "expires_at",
            "current",
            "location",
        }
        assert session["ip"] == "127.0.0.1"
        assert session["location"] is None  # no PROVIDER_GEOIP_DATABASE
        created = _parse(session["created_at"])
        assert created.tzinfo is not None
        assert abs(utcnow() - created) < timedelta(minutes=1)
        assert _parse(session["last_active_at"]) >= created
        assert _parse(session["expires_at"]) > utcnow() + timedelta(days=29)
    # Seen from the other device, the flag moves.
    assert [s["current"] for s in await _sessions(client, phone)] == [True, False]


async def test_a_huge_user_agent_is_stored_truncated(client: httpx.AsyncClient) -> None:
    await register(client)
    user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0 " + "x" * 3000
    tokens = await login(client, **{"User-Agent": user_agent})
    row = await Session.get(id=tokens["session"]["id"])
    assert row.user_agent == user_agent[:512]
    assert tokens["session"]["device"] == "Firefox on Linux"
    events = await AuditEvent.filter(session_id=row.id)
    assert events
    assert all(event.user_agent == user_agent[:512] for event in events)


async def test_delete_one_session_signs_that_device_out(client: httpx.AsyncClient) -> None:
    user = await register(client)
    laptop = await login(client)
    phone = await login(client)
    response = await client.delete(
        f"/v1/auth/sessions/{phone['session']['id']}", headers=bearer(laptop)
    )
    assert response.status_code == 200
    assert response.json() == {"revoked": True, "id": phone["session"]["id"]}
    # Refused at once, although the access token has not expired.
    assert_error(await client.get("/v1/auth/me", headers=bearer(phone)), 401, "session_revoked")
    assert_error(await _refresh(client, phone), 401, "invalid_refresh_token")
    assert (await client.get("/v1/auth/me", headers=bearer(laptop))).status_code == 200
    session = await Session.get(id=phone["session"]["id"])
    assert session.revoked_reason == "user_revoked"
    assert await RefreshToken.filter(session_id=session.id, revoked_at=None).count() == 0
    event = await AuditEvent.filter(event="session.revoked").get()
    assert str(event.user_id) == user["id"]
    assert str(event.session_id) == phone["session"]["id"]
    assert event.details == {"reason": "user_revoked"}
    assert [s["id"] for s in await _sessions(client, laptop)] == [laptop["session"]["id"]]


@pytest.mark.parametrize(
    "target",
    ["other-user", "revoked", "unknown", "not-a-uuid", "1", "%27%20OR%201=1", "..%2F..%2Fme"],
)
async def test_deleting_a_session_that_is_not_yours_is_404(
    client: httpx.AsyncClient, target: str
) -> None:
    await register(client)
    await register(client, email="grace@example.com")
    mine = await login(client)
    theirs = await login(client, "grace@example.com")
    old = await login(client)
    assert (await client.post("/v1/auth/logout", headers=bearer(old))).status_code == 200
    session_id = {
        "other-user": theirs["session"]["id"],
        "revoked": old["session"]["id"],
        "unknown": str(uuid.uuid4()),
    }.get(target, target)
    before = await row_counts()
    response = await client.delete(f"/v1/auth/sessions/{session_id}", headers=bearer(mine))
    assert_error(response, 404, "not_found")
    assert await row_counts() == before
    assert (await client.get("/v1/auth/me", headers=bearer(theirs))).status_code == 200
    assert (await Session.get(id=theirs["session"]["id"])).revoked_at is None


async def test_delete_sessions_signs_out_every_other_device(client: httpx.AsyncClient) -> None:
    user = await register(client)
    others = [await login(client) for _ in range(3)]
    current = await login(client)
    response = await client.delete("/v1/auth/sessions", headers=bearer(current))
    assert response.status_code == 200
    assert response.json() == {"revoked": 3}
    for tokens in others:
        assert_error(await client.get("/v1/auth/me", headers=bearer(tokens)), 401)
        assert_error(await _refresh(client, tokens), 401)
    assert (await client.get("/v1/auth/me", headers=bearer(current))).status_code == 200
    assert (await _refresh(client, current)).status_code == 200
    reasons = await Session.filter(revoked_at__isnull=False).values_list(
        "revoked_reason", flat=True
    )
    assert sorted(reasons) == ["user_revoked_others"] * 3
    bulk = await AuditEvent.filter(event="sessions.bulk_revoked").get()
    assert str(bulk.user_id) == user["id"]
    assert str(bulk.session_id) == current["session"]["id"]  # the one kept
    assert bulk.details == {"count": 3, "reason": "user_revoked_others"}


async def test_logout_ends_only_the_current_session(client: httpx.AsyncClient) -> None:
    user = await register(client)
    current = await login(client)
    other = await login(client)
    response = await client.post("/v1/auth/logout", headers=bearer(current))
    assert response.status_code == 200
    assert response.json() == {"logged_out": True}
    assert_error(await client.get("/v1/auth/me", headers=bearer(current)), 401, "session_revoked")
    assert_error(await _refresh(client, current), 401)
    assert_error(await client.post("/v1/auth/logout", headers=bearer(current)), 401)
    assert (await client.get("/v1/auth/me", headers=bearer(other))).status_code == 200
    session = await Session.get(id=current["session"]["id"])
    assert session.revoked_reason == "logout"
    logout = await AuditEvent.filter(event="user.logout").get()
    assert str(logout.user_id) == user["id"]
    assert str(logout.session_id) == current["session"]["id"]


async def test_logout_all_ends_every_session(client: httpx.AsyncClient) -> None:
    await register(client)
    sessions = [await login(client) for _ in range(3)]
    await register(client, email="grace@example.com")
    bystander = await login(client, "grace@example.com")
    response = await client.post("/v1/auth/logout-all", headers=bearer(sessions[0]))
    assert response.status_code == 200
    assert response.json() == {"logged_out": True, "revoked": 3}
    for tokens in sessions:
        assert_error(await client.get("/v1/auth/me", headers=bearer(tokens)), 401)
        assert_error(await _refresh(client, tokens), 401)
    assert (await client.get("/v1/auth/me", headers=bearer(bystander))).status_code == 200
    user_id = sessions[0]["user"]["id"]
    assert await Session.filter(user_id=user_id, revoked_at=None).count() == 0
    assert await RefreshToken.filter(user_id=user_id, revoked_at=None).count() == 0
    assert set(await Session.filter(user_id=user_id).values_list("revoked_reason", flat=True)) == {
        "logout_all"
    }
    events = await AuditEvent.filter(event__in=["sessions.bulk_revoked", "user.logout"]).order_by(
        "id"
    )
    assert [e.event for e in events] == ["sessions.bulk_revoked", "user.logout"]
    assert events[0].details == {"count": 3, "reason": "logout_all"}
    assert events[1].details == {"all": True}


# --- lifetimes and limits ------------------------------------------------------------------------


async def test_idle_sessions_expire(server_with) -> None:
    server: Server = await server_with(session_idle_ttl="60", session_absolute_ttl="60")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        idle = await login(http)
        active = await login(http)
        assert (await http.get("/v1/auth/me", headers=bearer(idle))).status_code == 200
        await Session.filter(id=idle["session"]["id"]).update(
            last_active_at=utcnow() - timedelta(seconds=61)
        )
        await Session.filter(id=active["session"]["id"]).update(
            last_active_at=utcnow() - timedelta(seconds=50)
        )
        assert_error(await http.get("/v1/auth/me", headers=bearer(idle)), 401, "session_revoked")
        assert_error(await _refresh(http, idle), 401, "invalid_refresh_token")
        # Within the idle timeout, a refresh counts as activity.
        refreshed = await _refresh(http, active)
        assert refreshed.status_code == 200
        row = await Session.get(id=active["session"]["id"])
        assert utcnow() - row.last_active_at < timedelta(seconds=5)
        listed = await _sessions(http, refreshed.json())
        assert [s["id"] for s in listed] == [active["session"]["id"]]


async def test_sessions_end_at_their_absolute_lifetime_despite_activity(server_with) -> None:
    server: Server = await server_with(session_idle_ttl="60", session_absolute_ttl="60")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        tokens = await login(http)
        row = await Session.get(id=tokens["session"]["id"])
        assert row.expires_at - row.created_at == timedelta(seconds=60)
        shift = timedelta(seconds=61)
        await Session.filter(id=row.id).update(
            created_at=row.created_at - shift,
            auth_time=row.auth_time - shift,
            expires_at=row.expires_at - shift,
            last_active_at=utcnow(),  # active right now
        )
        assert_error(await http.get("/v1/auth/me", headers=bearer(tokens)), 401, "session_revoked")
        assert_error(await _refresh(http, tokens), 401, "invalid_refresh_token")
        assert (await Session.get(id=row.id)).compromised_at is None


async def test_the_oldest_session_is_revoked_beyond_the_limit(server_with) -> None:
    server: Server = await server_with(max_sessions_per_user="2")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        await register(http, email="grace@example.com")
        first = await login(http)
        grace = await login(http, "grace@example.com")
        second = await login(http)
        assert await AuditEvent.filter(event="session.revoked").count() == 0
        third = await login(http)
        oldest = await Session.get(id=first["session"]["id"])
        assert oldest.revoked_reason == "session_limit"
        assert await RefreshToken.filter(session_id=oldest.id, revoked_at=None).count() == 0
        assert_error(await http.get("/v1/auth/me", headers=bearer(first)), 401, "session_revoked")
        assert_error(await _refresh(http, first), 401)
        for tokens in (second, third, grace):
            assert (await http.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
        listed = await _sessions(http, third)
        assert {s["id"] for s in listed} == {second["session"]["id"], third["session"]["id"]}
        event = await AuditEvent.filter(event="session.revoked").get()
        assert str(event.session_id) == first["session"]["id"]
        assert event.details == {"reason": "session_limit"}
        assert await Session.filter(revoked_at=None).count() == 3  # 2 of Ada's, 1 of Grace's


async def test_sessions_ended_by_idleness_do_not_count_toward_the_limit(server_with) -> None:
    server: Server = await server_with(
        max_sessions_per_user="2", session_idle_ttl="60", session_absolute_ttl="3600"
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        active = await login(http)
        abandoned = await login(http)
        await Session.filter(id=abandoned["session"]["id"]).update(
            last_active_at=utcnow() - timedelta(seconds=120)
        )
        assert_error(await http.get("/v1/auth/me", headers=bearer(abandoned)), 401)
        newest = await login(http)
        # Two live sessions, within the limit: the one in use is not signed out.
        assert (await http.get("/v1/auth/me", headers=bearer(active))).status_code == 200
        assert (await http.get("/v1/auth/me", headers=bearer(newest))).status_code == 200
        assert (await Session.get(id=active["session"]["id"])).revoked_at is None
        listed = await _sessions(http, newest)
        assert {s["id"] for s in listed} == {active["session"]["id"], newest["session"]["id"]}


async def test_last_active_at_is_written_at_most_once_per_interval(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    tokens = await login(client)
    session_id = tokens["session"]["id"]
    initial = (await Session.get(id=session_id)).last_active_at
    for _ in range(2):
        assert (await client.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
    assert (await Session.get(id=session_id)).last_active_at == initial

    moved = utcnow() - timedelta(seconds=120)  # beyond the 60 s touch interval
    await Session.filter(id=session_id).update(last_active_at=moved)
    assert (await client.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
    touched = (await Session.get(id=session_id)).last_active_at
    assert touched > moved + timedelta(seconds=100)
    assert utcnow() - touched < timedelta(seconds=5)
    assert (await client.get("/v1/auth/sessions", headers=bearer(tokens))).status_code == 200
    assert (await Session.get(id=session_id)).last_active_at == touched


async def test_activity_is_recorded_often_enough_for_a_short_idle_timeout(server_with) -> None:
    """With a 60 s idle timeout (and the default 60 s touch interval), a user active every
    40 s stays signed in: activity must be written well within the idle timeout."""
    server: Server = await server_with(
        max_sessions_per_user="2", session_idle_ttl="60", session_absolute_ttl="3600"
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        tokens = await login(http)
        session_id = tokens["session"]["id"]
        for _ in range(3):
            # 40 s have passed since the last recorded activity; the user is active again.
            row = await Session.get(id=session_id)
            await Session.filter(id=session_id).update(
                last_active_at=row.last_active_at - timedelta(seconds=40)
            )
            assert (await http.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
        # Two minutes of steady use in all, and the session is alive.
        assert (await http.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
        # Idle for longer than the timeout, it ends.
        await Session.filter(id=session_id).update(last_active_at=utcnow() - timedelta(seconds=61))
        assert_error(await http.get("/v1/auth/me", headers=bearer(tokens)), 401, "session_revoked")


async def test_a_wrong_password_login_does_not_end_sessions(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await login(client)
    response = await client.post(
        "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD + "x"}
    )
    assert response.status_code == 401
    assert (await client.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
