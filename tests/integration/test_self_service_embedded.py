"""The self-service endpoints' refusals on the embedded defaults: a server on a SQLite file with
the in-memory cache and the mail outbox, whatever PROVIDER_TEST_* name (the rest of the suite runs
on those; CI gives it PostgreSQL and Redis). Each bad request is a 4xx and changes nothing that
the API shows afterwards."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.mail import token_from
from tests.support import (
    PASSWORD,
    ROOT,
    Server,
    assert_error,
    bearer,
    fast_env,
    login,
    register,
    start_server,
)

CONFIRM_SUBJECT = "Confirm your new email address"


@pytest.fixture(scope="module")
async def embedded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    workdir = tmp_path_factory.mktemp("embedded")
    env = fast_env(f"sqlite://{workdir / 'provider.sqlite3'}", "", workdir / "keys")
    server = await asyncio.to_thread(start_server, env, workdir)
    try:
        cli_env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
        cli_env |= {**server.env, "PYTHONPATH": str(ROOT)}
        add = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "provider", "users", "add", "--email", "root@example.com"),
            *("--password", PASSWORD, "--role", "admin", "--verified"),
            cwd=workdir,
            env=cli_env,
            stdout=asyncio.subprocess.DEVNULL,
        )
        assert await add.wait() == 0
        yield server
    finally:
        server.stop()


@pytest.fixture
async def http(embedded: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=embedded.url, timeout=30) as client:
        yield client


async def _me(http: httpx.AsyncClient, tokens: dict[str, Any]) -> dict[str, Any]:
    response = await http.get("/v1/auth/me", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _outbox_mail(server: Server, to: str, subject: str) -> EmailMessage:
    """The mail to `to` with `subject` in the server's outbox, once the sender has written it."""
    outbox = server.log_path.parent / "var" / "outbox"
    for _ in range(200):
        for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if message["To"] == to and message["Subject"] == subject:
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail {subject!r} to {to}")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone_number", "020 7946 0958"),
        ("locale", "english please"),
        ("zoneinfo", "Europe/Atlantis"),
        ("picture", "http://images.example.com/ada.png"),
    ],
)
async def test_a_bad_profile_value_changes_nothing(
    http: httpx.AsyncClient, field: str, value: str
) -> None:
    email = f"profile-{field.replace('_', '-')}@example.com"
    await register(http, email=email)
    tokens = await login(http, email)
    good = {"given_name": "Ada", "phone_number": "+442079460958", "locale": "en-GB"}
    assert (await http.patch("/v1/auth/me", json=good, headers=bearer(tokens))).status_code == 200
    before = await _me(http, tokens)
    refused = await http.patch(
        "/v1/auth/me", json={field: value, "given_name": "Changed"}, headers=bearer(tokens)
    )
    assert set(assert_error(refused, 422, "validation_failed")["details"]) == {field}
    assert await _me(http, tokens) == before


async def test_email_change_refusals_change_nothing(
    http: httpx.AsyncClient, embedded: Server
) -> None:
    await register(http, email="taken@example.com")
    await register(http, email="mover@example.com")
    tokens = await login(http, "mover@example.com")
    before = await _me(http, tokens)

    async def ask(new_email: str) -> httpx.Response:
        return await http.post(
            "/v1/auth/email/change",
            json={"new_email": new_email, "current_password": PASSWORD},
            headers=bearer(tokens),
        )

    assert_error(await ask("taken@example.com"), 409, "email_taken")
    for path in ("confirm", "cancel"):
        forged = await http.post(f"/v1/auth/email/change/{path}", json={"token": "x" * 43})
        assert_error(forged, 400, "invalid_token")
    assert await _me(http, tokens) == before

    assert (await ask("moved@example.com")).status_code == 202
    mail = await _outbox_mail(embedded, "moved@example.com", CONFIRM_SUBJECT)
    confirm = token_from(mail, embedded, "/email/change/confirm")
    done = await http.post("/v1/auth/email/change/confirm", json={"token": confirm})
    assert done.status_code == 200, done.text
    after = await _me(http, tokens)
    assert after["user"]["email"] == "moved@example.com"
    reused = await http.post("/v1/auth/email/change/confirm", json={"token": confirm})
    assert_error(reused, 400, "invalid_token")
    assert await _me(http, tokens) == after


async def test_the_last_administrator_cannot_delete_their_account(
    http: httpx.AsyncClient,
) -> None:
    tokens = await login(http, "root@example.com")
    before = await _me(http, tokens)
    refused = await http.post(
        "/v1/auth/me/delete", json={"current_password": PASSWORD}, headers=bearer(tokens)
    )
    assert_error(refused, 409, "last_admin")
    assert await _me(http, tokens) == before


async def test_devices_and_apps_of_someone_else_are_not_found(http: httpx.AsyncClient) -> None:
    await register(http, email="owner@example.com")
    await register(http, email="other@example.com")
    owner = await login(http, "owner@example.com")
    other = await login(http, "other@example.com")
    theirs = (await _me(http, other))["session_id"]
    foreign = await http.delete(f"/v1/auth/sessions/{theirs}", headers=bearer(owner))
    assert_error(foreign, 404, "not_found")
    unknown = await http.delete("/v1/auth/consents/no-such-app", headers=bearer(owner))
    assert_error(unknown, 404, "not_found")
    assert (await _me(http, other))["session_id"] == theirs
    listed = await http.get("/v1/auth/sessions", headers=bearer(owner))
    assert len(listed.json()["sessions"]) == 1


async def test_bad_role_and_group_requests_change_nothing(http: httpx.AsyncClient) -> None:
    root = bearer(await login(http, "root@example.com"))
    user = await register(http, email="member@example.com")
    access = f"/v1/admin/users/{user['id']}/app-access"
    before = (await http.get(access, headers=root)).json()
    assert_error(
        await http.put(access, json={"roles": ["no-such-role"]}, headers=root),
        422,
        "validation_failed",
    )
    assert_error(
        await http.put(
            "/v1/admin/clients/no-such-client/group-filter", json={"prefix": "x"}, headers=root
        ),
        404,
        "not_found",
    )
    assert (await http.get(access, headers=root)).json() == before
