"""Account lockout: five failures lock the account for a while, known or unknown alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx

from provider.storage.models import AuditEvent, Session, User
from provider.storage.unit_of_work import utcnow
from tests.support import PASSWORD, Server, assert_error, register

LOGIN = "/v1/auth/sessions"


async def _attempt(http: httpx.AsyncClient, identifier: str, password: str) -> httpx.Response:
    return await http.post(LOGIN, json={"identifier": identifier, "password": password})


async def _fail(http: httpx.AsyncClient, identifier: str, times: int) -> None:
    for index in range(times):
        response = await _attempt(http, identifier, f"wrong password {index}")
        assert_error(response, 401, "invalid_credentials")


def _shape(error: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    return error["code"], error["message"], tuple(sorted(error))


async def test_five_failures_lock_the_account(client: httpx.AsyncClient) -> None:
    user = await register(client, username="ada")
    await _fail(client, "ada@example.com", 4)
    assert (await User.get(id=user["id"])).locked_until is None
    await _fail(client, "ada", 1)  # the fifth, typed as the username: same account
    locked_until = (await User.get(id=user["id"])).locked_until
    assert locked_until is not None
    assert timedelta(seconds=880) < locked_until - utcnow() <= timedelta(seconds=901)
    locked = await AuditEvent.filter(event="user.locked").get()
    assert str(locked.user_id) == user["id"]
    assert locked.details["failures"] == 5
    assert await AuditEvent.filter(event="user.login_failed").count() == 5

    # The sixth attempt, even with the right password, is refused.
    response = await _attempt(client, "ada@example.com", PASSWORD)
    error = assert_error(response, 423, "account_locked")
    assert 880 <= int(response.headers["retry-after"]) <= 901
    assert error["details"]["retry_after"] == int(response.headers["retry-after"])
    assert await Session.all().count() == 0
    assert await AuditEvent.filter(event="user.login").count() == 0


async def test_a_success_resets_the_failure_count(client: httpx.AsyncClient) -> None:
    user = await register(client)
    await _fail(client, "ada@example.com", 4)
    assert (await _attempt(client, "ada@example.com", PASSWORD)).status_code == 200
    await _fail(client, "ada@example.com", 4)
    assert (await User.get(id=user["id"])).locked_until is None
    assert (await _attempt(client, "ada@example.com", PASSWORD)).status_code == 200


async def test_unknown_identifiers_lock_the_same_way(client: httpx.AsyncClient) -> None:
    await register(client)
    await _fail(client, "ada@example.com", 5)
    known = await _attempt(client, "ada@example.com", PASSWORD)
    # Unique per run: the default server's in-memory lock outlives this test without Redis.
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    await _fail(client, ghost, 5)
    unknown = await _attempt(client, f" {ghost.upper()}", PASSWORD)
    known_error = assert_error(known, 423, "account_locked")
    unknown_error = assert_error(unknown, 423, "account_locked")
    assert _shape(known_error) == _shape(unknown_error)
    assert set(known.headers) == set(unknown.headers)
    assert abs(int(known.headers["retry-after"]) - int(unknown.headers["retry-after"])) <= 2
    # Nothing about the ghost was written as a user.
    assert await User.all().count() == 1


async def test_the_lock_ends_after_the_lock_duration(server_with) -> None:
    server: Server = await server_with(lockout_duration="2", tag="lock-ends")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        user = await register(http)
        await _fail(http, "ada@example.com", 5)
        await _fail(http, "ghost@example.com", 5)
        assert_error(await _attempt(http, "ada@example.com", PASSWORD), 423, "account_locked")
        assert_error(await _attempt(http, "ghost@example.com", PASSWORD), 423, "account_locked")
        await asyncio.sleep(2.2)
        response = await _attempt(http, "ada@example.com", PASSWORD)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["id"] == user["id"]
        assert_error(await _attempt(http, "ghost@example.com", PASSWORD), 401)
        # The count starts again from zero after a lock.
        await _fail(http, "ada@example.com", 4)
        assert (await _attempt(http, "ada@example.com", PASSWORD)).status_code == 200
