"""Signing in with TOTP on: the password step answers a challenge, the code step the tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, BackupCode, OneTimeToken, Session, User
from provider.storage.unit_of_work import utcnow
from tests.integration.conftest import (
    Mailbox,
    current_step,
    enrol_totp,
    fresh_totp_code,
    start_mfa_login,
    totp_code,
)
from tests.support import PASSWORD, Server, assert_error, bearer, login, register, row_counts


async def _mfa_user(http: httpx.AsyncClient) -> tuple[dict[str, Any], str, list[str]]:
    user = await register(http)
    secret, codes = await enrol_totp(http, await login(http))
    return user, secret, codes


async def _verify(
    http: httpx.AsyncClient, mfa_token: str, code: str, **headers: str
) -> httpx.Response:
    return await http.post(
        "/v1/auth/mfa/verify", json={"mfa_token": mfa_token, "code": code}, headers=headers
    )


async def test_a_totp_code_completes_the_login(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, secret, _ = await _mfa_user(http)
        sessions_before = await Session.filter(user_id=user["id"]).count()

        response = await http.post(
            "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        challenge = response.json()
        assert set(challenge) == {"mfa_required", "mfa_token", "methods", "expires_in"}
        assert challenge["mfa_required"] is True
        assert challenge["methods"] == ["totp", "backup_code"]
        assert challenge["expires_in"] == 300
        assert "access_token" not in response.text
        # No session yet: the password alone did not sign in.
        assert await Session.filter(user_id=user["id"]).count() == sessions_before
        stored = await OneTimeToken.get(purpose="mfa_login")
        assert stored.token_hash != challenge["mfa_token"]
        assert stored.data["ip"] == "127.0.0.1"
        assert (stored.expires_at - stored.created_at) == timedelta(minutes=5)

        verified = await _verify(
            http, challenge["mfa_token"], await fresh_totp_code(secret, user["id"])
        )
        assert verified.status_code == 200, verified.text
        tokens = verified.json()
        assert {"access_token", "refresh_token", "token_type", "expires_in", "user", "session"} <= (
            set(tokens)
        )
        assert tokens["user"]["id"] == user["id"]
        session = await Session.get(id=tokens["session"]["id"])
        assert session.amr == ["pwd", "otp", "mfa"]
        assert session.acr == "urn:provider:acr:mfa"
        me = await http.get("/v1/auth/me", headers=bearer(tokens))
        assert me.status_code == 200
        refreshed = await http.post(
            "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200

        # The challenge is spent.
        again = await _verify(
            http, challenge["mfa_token"], await fresh_totp_code(secret, user["id"])
        )
        assert_error(again, 401, "invalid_mfa_token")

        login_event = await AuditEvent.get(event="user.login", session_id=session.id)
        assert login_event.details == {"method": "password", "amr": ["pwd", "otp", "mfa"]}
        assert await AuditEvent.filter(event="mfa.verified").count() == 1


async def test_a_password_only_session_has_amr_pwd(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        tokens = await login(http)
        session = await Session.get(id=tokens["session"]["id"])
        assert session.amr == ["pwd"]
        assert session.acr == "1"


async def test_a_backup_code_works_once(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, _, codes = await _mfa_user(http)
        first = await _verify(http, await start_mfa_login(http), codes[0])
        assert first.status_code == 200, first.text
        session = await Session.get(id=first.json()["session"]["id"])
        assert session.amr == ["pwd", "otp", "mfa"]
        assert await BackupCode.filter(user_id=user["id"], used_at=None).count() == 9

        second = await _verify(http, await start_mfa_login(http), codes[0])
        assert_error(second, 401, "invalid_code")
        # Case and the dash do not matter.
        third = await _verify(http, await start_mfa_login(http), codes[1].upper().replace("-", ""))
        assert third.status_code == 200, third.text
        events = await AuditEvent.filter(event="mfa.verified")
        assert [event.details for event in events] == [{"method": "backup_code"}] * 2


async def test_a_totp_code_is_accepted_once(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, secret, _ = await _mfa_user(http)
        code = await fresh_totp_code(secret, user["id"])
        assert (await _verify(http, await start_mfa_login(http), code)).status_code == 200
        step = (await User.get(id=user["id"])).totp_last_step
        assert step is not None

        # The same code (same step) again: refused, and so is the step before it.
        assert_error(await _verify(http, await start_mfa_login(http), code), 401, "invalid_code")
        older = totp_code(secret, step - 1)
        assert_error(await _verify(http, await start_mfa_login(http), older), 401, "invalid_code")
        # Outside the ±1 step window: refused.
        far = totp_code(secret, current_step() + 3)
        assert_error(await _verify(http, await start_mfa_login(http), far), 401, "invalid_code")
        assert (await User.get(id=user["id"])).totp_last_step == step


async def test_wrong_codes_lock_the_account(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, secret, codes = await _mfa_user(http)
        mfa_token = await start_mfa_login(http)
        for _ in range(4):
            assert_error(await _verify(http, mfa_token, "000000"), 401, "invalid_code")
        # A correct password in between does not clear the count of wrong codes.
        mfa_token = await start_mfa_login(http)
        assert_error(await _verify(http, mfa_token, "000000"), 401, "invalid_code")
        assert (await User.get(id=user["id"])).locked_until is not None

        # Locked: even a right code, and the password step, are refused.
        good = await fresh_totp_code(secret, user["id"])
        assert_error(await _verify(http, mfa_token, good), 423, "account_locked")
        assert_error(await _verify(http, mfa_token, codes[0]), 423, "account_locked")
        password = await http.post(
            "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
        )
        assert_error(password, 423, "account_locked")
        failed = await AuditEvent.filter(event="user.login_failed", user_id=user["id"])
        assert len(failed) == 5
        assert all(event.details == {"reason": "invalid_mfa_code"} for event in failed)
        assert await AuditEvent.filter(event="user.locked", user_id=user["id"]).count() == 1
        assert await BackupCode.filter(user_id=user["id"], used_at=None).count() == 10


async def test_a_right_code_clears_the_failures(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, _, codes = await _mfa_user(http)
        mfa_token = await start_mfa_login(http)
        for _ in range(4):
            assert_error(await _verify(http, mfa_token, "000000"), 401, "invalid_code")
        # The challenge survives wrong codes; a right one finishes the login.
        assert (await _verify(http, mfa_token, codes[0])).status_code == 200
        mfa_token = await start_mfa_login(http)
        for _ in range(4):
            assert_error(await _verify(http, mfa_token, "000000"), 401, "invalid_code")
        assert (await User.get(id=user["id"])).locked_until is None


async def test_the_challenge_is_bound_to_the_caller_and_expires(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, _, codes = await _mfa_user(http)
        mfa_token = await start_mfa_login(http, **{"user-agent": "laptop"})
        other = await _verify(http, mfa_token, codes[0], **{"user-agent": "somewhere else"})
        assert_error(other, 401, "invalid_mfa_token")
        # The refused attempt spent nothing.
        assert await BackupCode.filter(user_id=user["id"], used_at=None).count() == 10

        await OneTimeToken.filter(purpose="mfa_login").update(
            expires_at=utcnow() - timedelta(seconds=1)
        )
        expired = await _verify(http, mfa_token, codes[0], **{"user-agent": "laptop"})
        assert_error(expired, 401, "invalid_mfa_token")
        unknown = await _verify(http, "not-a-token", codes[0], **{"user-agent": "laptop"})
        assert_error(unknown, 401, "invalid_mfa_token")
        assert await BackupCode.filter(user_id=user["id"], used_at=None).count() == 10


async def test_a_challenge_dies_when_mfa_is_turned_off(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, _, codes = await _mfa_user(http)
        mfa_token = await start_mfa_login(http)
        await User.filter(id=user["id"]).update(totp_secret=None, totp_enabled_at=None)
        assert_error(await _verify(http, mfa_token, codes[0]), 401, "invalid_mfa_token")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mfa_token": "x"},
        {"code": "123456"},
        {"mfa_token": "x", "code": 123456},
        {"mfa_token": None, "code": "123456"},
        {"mfa_token": "x", "code": "123"},
        {"mfa_token": "x", "code": "123456", "remember": True},
        "not json",
        ["x", "123456"],
    ],
)
async def test_verify_refuses_bad_input(mail_server: Server, mailbox: Mailbox, body: Any) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, _, _ = await _mfa_user(http)
        mfa_token = await start_mfa_login(http)
        if isinstance(body, dict) and body.get("mfa_token") == "x":
            body = {**body, "mfa_token": mfa_token}
        before = await row_counts()
        if isinstance(body, str):
            response = await http.post(
                "/v1/auth/mfa/verify", content=body, headers={"content-type": "application/json"}
            )
        else:
            response = await http.post("/v1/auth/mfa/verify", json=body)
        assert_error(response, 400)
        assert await row_counts() == before
        assert (await OneTimeToken.get(purpose="mfa_login")).used_at is None
        assert (await User.get(id=user["id"])).locked_until is None
