"""Forgotten passwords: a mailed single-use link, the same answer for unknown addresses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, OneTimeToken, RefreshToken, Session, User
from provider.storage.unit_of_work import utcnow
from tests.integration.conftest import Mailbox, MailServerFactory, text_part, token_from
from tests.support import PASSWORD, Server, assert_error, bearer, login, register, row_counts

NEW_PASSWORD = "a brand new passphrase"
RESET_SUBJECT = "Reset your password"


async def _forgot(http: httpx.AsyncClient, email: str) -> httpx.Response:
    return await http.post("/v1/auth/password/forgot", json={"email": email})


async def _reset_token(
    http: httpx.AsyncClient, server: Server, mailbox: Mailbox, email: str = "ada@example.com"
) -> str:
    response = await _forgot(http, email)
    assert response.status_code == 202, response.text
    return token_from(await mailbox.wait_for(email, RESET_SUBJECT), server, "/password/reset")


async def test_forgot_then_reset_ends_every_session_and_changes_the_password(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        phone = await login(http, **{"user-agent": "phone"})
        laptop = await login(http, **{"user-agent": "laptop"})
        mailbox.clear()

        token = await _reset_token(http, mail_server, mailbox)
        row = await OneTimeToken.get(user_id=user["id"], purpose="reset_password")
        assert row.expires_at - row.created_at == timedelta(hours=1)

        # The policy applies, and a refused password does not spend the link.
        weak = await http.post(
            "/v1/auth/password/reset", json={"token": token, "password": "short"}
        )
        assert_error(weak, 422, "validation_failed")
        breached = await http.post(
            "/v1/auth/password/reset", json={"token": token, "password": "basketball"}
        )
        assert "too common" in " ".join(
            assert_error(breached, 422, "validation_failed")["details"]["password"]
        )
        assert (await OneTimeToken.get(id=row.id)).used_at is None

        response = await http.post(
            "/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"password_reset": True}

        for tokens in (phone, laptop):
            assert_error(await http.get("/v1/auth/me", headers=bearer(tokens)), 401)
            refreshed = await http.post(
                "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
            )
            assert_error(refreshed, 401, "invalid_refresh_token")
        assert await Session.filter(user_id=user["id"], revoked_at=None).count() == 0
        assert await RefreshToken.filter(user_id=user["id"], revoked_at=None).count() == 0
        reasons = {session.revoked_reason for session in await Session.filter(user_id=user["id"])}
        assert reasons == {"password_reset"}

        old = await http.post(
            "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
        )
        assert_error(old, 401, "invalid_credentials")
        assert (await login(http, password=NEW_PASSWORD))["user"]["id"] == user["id"]

        # Single use.
        again = await http.post(
            "/v1/auth/password/reset", json={"token": token, "password": "yet another passphrase"}
        )
        assert_error(again, 400, "invalid_token")

        notice = await mailbox.wait_for("ada@example.com", "Your password was changed")
        assert "reset" in text_part(notice)
        assert await AuditEvent.filter(event="password.reset", user_id=user["id"]).count() == 1
        assert await AuditEvent.filter(event="password.reset_requested").count() == 1
    assert token not in mail_server.log()
    assert NEW_PASSWORD not in mail_server.log()


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        await mailbox.wait_for("ada@example.com")
        mailbox.clear()
        unknown = await _forgot(http, "nobody@example.com")
        malformed = await _forgot(http, "not an address")
        known = await _forgot(http, "ada@example.com")
        assert unknown.status_code == known.status_code == malformed.status_code == 202
        assert unknown.json() == known.json() == malformed.json()
        assert unknown.headers.get("content-type") == known.headers.get("content-type")
        assert set(unknown.headers) == set(known.headers)
        # The mail of the known address arrives; nothing was sent for the unknown one.
        await mailbox.wait_for("ada@example.com", RESET_SUBJECT)
        await asyncio.sleep(0.3)
        assert [m["To"] for m in mailbox.messages] == ["ada@example.com"]
        assert await OneTimeToken.filter(purpose="reset_password").count() == 1
        failed = await AuditEvent.filter(event="password.reset_requested", outcome="failure")
        assert len(failed) == 2
        assert all(event.user_id is None for event in failed)


async def test_a_deleted_account_gets_no_mail(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        await mailbox.wait_for("ada@example.com")
        await User.filter(id=user["id"]).update(deleted_at=utcnow())
        mailbox.clear()
        assert (await _forgot(http, "ada@example.com")).status_code == 202
        await asyncio.sleep(0.3)
        assert mailbox.messages == []


async def test_a_reset_clears_a_lockout(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        for _ in range(5):
            await http.post(
                "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": "wrong"}
            )
        locked = await http.post(
            "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
        )
        assert_error(locked, 423, "account_locked")
        token = await _reset_token(http, mail_server, mailbox)
        response = await http.post(
            "/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
        )
        assert response.status_code == 200
        assert (await User.get(id=user["id"])).locked_until is None
        assert (await login(http, password=NEW_PASSWORD))["user"]["id"] == user["id"]


async def test_a_reset_link_proves_the_address(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        token = await _reset_token(http, mail_server, mailbox)
        await http.post("/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
        assert (await User.get(id=user["id"])).email_verified_at is not None


async def test_expired_and_foreign_tokens_are_refused(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        verify = token_from(
            await mailbox.wait_for("ada@example.com", "Verify"), mail_server, "/email/verify"
        )
        body = {"token": verify, "password": NEW_PASSWORD}
        assert_error(await http.post("/v1/auth/password/reset", json=body), 400, "invalid_token")

        token = await _reset_token(http, mail_server, mailbox)
        await OneTimeToken.filter(purpose="reset_password").update(
            expires_at=utcnow() - timedelta(seconds=1)
        )
        body = {"token": token, "password": NEW_PASSWORD}
        assert_error(await http.post("/v1/auth/password/reset", json=body), 400, "invalid_token")
        assert (await login(http))["user"]["id"] == user["id"]


async def test_a_newer_reset_retires_older_links(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        await mailbox.wait_for("ada@example.com")
        mailbox.clear()
        assert (await _forgot(http, "ada@example.com")).status_code == 202
        assert (await _forgot(http, "ada@example.com")).status_code == 202
        first, second = (
            token_from(mail, mail_server, "/password/reset")
            for mail in await mailbox.wait_for_all("ada@example.com", 2)
        )
        response = await http.post(
            "/v1/auth/password/reset", json={"token": second, "password": NEW_PASSWORD}
        )
        assert response.status_code == 200
        response = await http.post(
            "/v1/auth/password/reset", json={"token": first, "password": "yet another passphrase"}
        )
        assert_error(response, 400, "invalid_token")


async def test_forgot_is_rate_limited_per_address_and_per_ip(
    mail_server_with: MailServerFactory, mailbox: Mailbox
) -> None:
    server = await mail_server_with(ratelimit_mail_per_account="2", ratelimit_mail_per_ip="4")
    async with httpx.AsyncClient(base_url=server.url) as http:
        for _ in range(2):
            assert (await _forgot(http, "someone@example.com")).status_code == 202
        # The same address in another spelling is the same address.
        assert_error(await _forgot(http, " SomeOne@Example.com "), 429, "rate_limited")
        assert (await _forgot(http, "other@example.com")).status_code == 202
        # 4 per IP: the refused one counted too.
        assert_error(await _forgot(http, "third@example.com"), 429, "rate_limited")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": 5},
        {"email": None},
        {"email": ["ada@example.com"]},
        {"email": ""},
        {"email": "a" * 255},
        {"email": "ada@example.com", "extra": True},
        "not json",
        ["ada@example.com"],
    ],
)
async def test_forgot_refuses_bad_input(mail_server: Server, mailbox: Mailbox, body: Any) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        await mailbox.wait_for("ada@example.com")
        mailbox.clear()
        before = await row_counts()
        response = await _post(http, "/v1/auth/password/forgot", body)
        assert_error(response, 400)
        assert await row_counts() == before
        await asyncio.sleep(0.2)
        assert mailbox.messages == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "x"},
        {"password": NEW_PASSWORD},
        {"token": 1, "password": NEW_PASSWORD},
        {"token": "x", "password": 12345678901},
        {"token": "x", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        {"token": "x", "password": "p" * 257},
        "not json",
        [],
    ],
)
async def test_reset_refuses_bad_input(mail_server: Server, mailbox: Mailbox, body: Any) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        token = await _reset_token(http, mail_server, mailbox)
        if isinstance(body, dict) and body.get("token") == "x":
            body = {**body, "token": token}
        stored = (await User.get(id=user["id"])).password_hash
        before = await row_counts()
        response = await _post(http, "/v1/auth/password/reset", body)
        assert_error(response, 400)
        assert await row_counts() == before
        assert (await User.get(id=user["id"])).password_hash == stored
        assert (await OneTimeToken.get(purpose="reset_password")).used_at is None


async def _post(http: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    if isinstance(body, str):
        return await http.post(path, content=body, headers={"content-type": "application/json"})
    return await http.post(path, json=body)
