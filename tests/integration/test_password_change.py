"""A signed-in user changes their password: the current one is required, other sessions end."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, RefreshToken, Session, User
from tests.integration.conftest import Mailbox, text_part
from tests.support import PASSWORD, Server, assert_error, bearer, login, register, row_counts

NEW_PASSWORD = "a brand new passphrase"


async def _change(
    http: httpx.AsyncClient, tokens: dict[str, Any], current: str, new: str
) -> httpx.Response:
    return await http.post(
        "/v1/auth/password/change",
        json={"current_password": current, "new_password": new},
        headers=bearer(tokens),
    )


async def test_change_keeps_this_session_and_ends_the_others(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        here = await login(http, **{"user-agent": "laptop"})
        there = await login(http, **{"user-agent": "phone"})

        response = await _change(http, here, PASSWORD, NEW_PASSWORD)
        assert response.status_code == 200, response.text
        assert response.json() == {"password_changed": True, "revoked_sessions": 1}

        assert (await http.get("/v1/auth/me", headers=bearer(here))).status_code == 200
        assert_error(await http.get("/v1/auth/me", headers=bearer(there)), 401)
        refreshed = await http.post(
            "/v1/auth/tokens/refresh", json={"refresh_token": there["refresh_token"]}
        )
        assert_error(refreshed, 401, "invalid_refresh_token")
        kept = await http.post(
            "/v1/auth/tokens/refresh", json={"refresh_token": here["refresh_token"]}
        )
        assert kept.status_code == 200
        assert (await Session.get(id=there["session"]["id"])).revoked_reason == "password_changed"
        assert await RefreshToken.filter(session_id=here["session"]["id"]).count() == 2

        assert_error(
            await http.post(
                "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
            ),
            401,
            "invalid_credentials",
        )
        assert (await login(http, password=NEW_PASSWORD))["user"]["id"] == user["id"]
        notice = await mailbox.wait_for("ada@example.com", "Your password was changed")
        assert "changed" in text_part(notice)
        assert await AuditEvent.filter(event="password.changed", user_id=user["id"]).count() == 1
    log = mail_server.log()
    assert PASSWORD not in log
    assert NEW_PASSWORD not in log


async def test_a_wrong_current_password_is_refused_and_counts_toward_the_lockout(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        tokens = await login(http)
        stored = (await User.get(id=user["id"])).password_hash
        for _ in range(4):
            wrong = await _change(http, tokens, "wrong", NEW_PASSWORD)
            assert_error(wrong, 403, "invalid_password")
        assert (await User.get(id=user["id"])).locked_until is None
        wrong = await _change(http, tokens, "wrong", NEW_PASSWORD)
        assert_error(wrong, 403, "invalid_password")
        assert (await User.get(id=user["id"])).locked_until is not None
        # Locked now: even the right password is refused, here and at login.
        assert_error(await _change(http, tokens, PASSWORD, NEW_PASSWORD), 423, "account_locked")
        assert_error(
            await http.post(
                "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
            ),
            423,
            "account_locked",
        )
        assert (await User.get(id=user["id"])).password_hash == stored
        assert await AuditEvent.filter(event="password.change_failed").count() == 5
        assert await AuditEvent.filter(event="user.locked").count() == 1


async def test_the_policy_applies_to_the_new_password(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        tokens = await login(http)
        stored = (await User.get(id=user["id"])).password_hash
        for weak in ("short", "ada@example.com", "password1234", "Manchester"):
            error = assert_error(await _change(http, tokens, PASSWORD, weak), 422)
            assert "password" in error["details"]
        # A breached password, from the large list, is refused with the reason.
        error = assert_error(await _change(http, tokens, PASSWORD, "Q1W2E3R4T5Y6"), 422)
        assert "too common" in " ".join(error["details"]["password"])
        assert (await User.get(id=user["id"])).password_hash == stored


async def test_change_needs_a_session(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        response = await http.post(
            "/v1/auth/password/change",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert_error(response, 401)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"current_password": PASSWORD},
        {"new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": 1234567890123},
        {"current_password": None, "new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "logout": True},
        {"current_password": "", "new_password": NEW_PASSWORD},
        "not json",
        [PASSWORD, NEW_PASSWORD],
    ],
)
async def test_change_refuses_bad_input(mail_server: Server, mailbox: Mailbox, body: Any) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        tokens = await login(http)
        stored = (await User.get(id=user["id"])).password_hash
        before = await row_counts()
        if isinstance(body, str):
            response = await http.post(
                "/v1/auth/password/change",
                content=body,
                headers={**bearer(tokens), "content-type": "application/json"},
            )
        else:
            response = await http.post(
                "/v1/auth/password/change", json=body, headers=bearer(tokens)
            )
        assert_error(response, 400)
        assert await row_counts() == before
        assert (await User.get(id=user["id"])).password_hash == stored
