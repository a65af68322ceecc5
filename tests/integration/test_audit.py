"""Every security event leaves an audit row naming the request: ip, user agent, request id."""

from __future__ import annotations

from typing import Any

import httpx

from provider.storage.models import AuditEvent
from tests.support import PASSWORD, bearer

EVENTS = {
    "user.registered",
    "user.login",
    "user.login_failed",
    "user.locked",
    "session.created",
    "session.revoked",
    "sessions.bulk_revoked",
    "token.refreshed",
    "token.reuse_detected",
    "user.logout",
}


class Recorder:
    """Sends each request with its own User-Agent and X-Request-ID and remembers both."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.user_agents: dict[str, str] = {}  # request id -> user agent

    async def send(
        self, name: str, method: str, url: str, *, send_id: bool = True, **kwargs: Any
    ) -> httpx.Response:
        headers = {"User-Agent": f"audit-test/{name}", **kwargs.pop("headers", {})}
        if send_id:
            headers["X-Request-ID"] = f"req-{name}"
        response = await self.http.request(method, url, headers=headers, **kwargs)
        request_id = response.headers["x-request-id"]
        if send_id:
            assert request_id == f"req-{name}"
        self.user_agents[request_id] = headers["User-Agent"]
        return response

    async def login(self, name: str, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.send(
            name, "POST", "/v1/auth/sessions", json={"identifier": email, "password": password}
        )


async def test_every_event_is_audited_with_the_request_it_came_from(
    client: httpx.AsyncClient,
) -> None:
    rec = Recorder(client)
    body = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}
    assert (await rec.send("register", "POST", "/v1/auth/register", json=body)).status_code == 201
    grace = {**body, "email": "grace@example.com"}
    # Without an X-Request-ID, the generated one is both in the response and in the audit row.
    response = await rec.send("register-2", "POST", "/v1/auth/register", json=grace, send_id=False)
    assert response.status_code == 201
    generated = response.headers["x-request-id"]
    assert len(generated) >= 16

    first = (await rec.login("login", "ada@example.com")).json()
    for attempt in range(5):
        failed = await rec.login(f"fail-{attempt}", "grace@example.com", "wrong password")
        assert failed.status_code == 401
    refreshed = await rec.send(
        "refresh", "POST", "/v1/auth/tokens/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200
    current = refreshed.json()
    second = (await rec.login("login-2", "ada@example.com")).json()
    deleted = await rec.send(
        "delete-one", "DELETE", f"/v1/auth/sessions/{second['session']['id']}",
        headers=bearer(current),
    )  # fmt: skip
    assert deleted.status_code == 200
    await rec.login("login-3", "ada@example.com")
    others = await rec.send("delete-others", "DELETE", "/v1/auth/sessions", headers=bearer(current))
    assert others.json() == {"revoked": 1}
    fourth = (await rec.login("login-4", "ada@example.com")).json()
    logout = await rec.send("logout", "POST", "/v1/auth/logout", headers=bearer(fourth))
    assert logout.status_code == 200
    replay = await rec.send(
        "replay", "POST", "/v1/auth/tokens/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401

    rows = await AuditEvent.all().order_by("id")
    assert {row.event for row in rows} == EVENTS
    for row in rows:
        assert row.ip == "127.0.0.1", row.event
        assert row.request_id in rec.user_agents, (row.event, row.request_id)
        assert row.user_agent == rec.user_agents[row.request_id], row.event
        assert row.created_at is not None
        assert row.outcome in ("success", "failure")

    def events_of(request_id: str) -> list[str]:
        return [row.event for row in rows if row.request_id == request_id]

    assert events_of("req-register") == ["user.registered"]
    assert events_of(generated) == ["user.registered"]
    assert events_of("req-login") == ["session.created", "user.login"]
    assert events_of("req-fail-0") == ["user.login_failed"]
    assert events_of("req-fail-4") == ["user.login_failed", "user.locked"]
    assert events_of("req-refresh") == ["token.refreshed"]
    assert events_of("req-delete-one") == ["session.revoked"]
    assert events_of("req-delete-others") == ["sessions.bulk_revoked"]
    assert events_of("req-logout") == ["session.revoked", "user.logout"]
    assert sorted(events_of("req-replay")) == ["session.revoked", "token.reuse_detected"]
    failures = {row.event for row in rows if row.outcome == "failure"}
    assert failures == {"user.login_failed", "token.reuse_detected"}
    ada = next(row.user_id for row in rows if row.request_id == "req-register")
    for row in rows:
        if row.request_id.startswith("req-fail"):
            assert row.user_id != ada
        elif row.request_id != generated:
            assert row.user_id == ada, row.event
    assert all(row.session_id for row in rows if row.event.startswith(("session", "token")))
