"""Email verification: the link mailed at registration or on request, consumed once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, OneTimeToken, User
from provider.storage.unit_of_work import utcnow
from tests.integration.conftest import Mailbox, MailServerFactory, html_part, text_part, token_from
from tests.support import Server, assert_error, bearer, login, register, row_counts

VERIFY_SUBJECT = "Verify your email address"


async def _verify(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/v1/auth/email/verify", json={"token": token})


async def test_registration_mails_a_link_that_verifies_the_address(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        mail = await mailbox.wait_for("ada@example.com", VERIFY_SUBJECT)
        assert mail["From"] == "Provider <no-reply@provider.test>"
        assert mail["Auto-Submitted"] == "auto-generated"
        assert "Ada" in text_part(mail)
        assert "<html" in html_part(mail)
        token = token_from(mail, mail_server, "/email/verify")
        row = await OneTimeToken.get(user_id=user["id"], purpose="verify_email")
        assert token not in row.token_hash
        assert row.expires_at - row.created_at == timedelta(hours=24)

        tokens = await login(http)
        me = await http.get("/v1/auth/me", headers=bearer(tokens))
        assert me.json()["user"]["email_verified"] is False

        response = await _verify(http, token)
        assert response.status_code == 200, response.text
        assert response.json() == {"email_verified": True}
        me = await http.get("/v1/auth/me", headers=bearer(tokens))
        assert me.json()["user"]["email_verified"] is True
        assert (await User.get(id=user["id"])).email_verified_at is not None
        assert (await OneTimeToken.get(id=row.id)).used_at is not None
        assert await AuditEvent.filter(event="email.verified", user_id=user["id"]).count() == 1

        # Single use.
        assert_error(await _verify(http, token), 400, "invalid_token")
        assert await AuditEvent.filter(event="email.verified").count() == 1
    # The log never holds the token.
    assert token not in mail_server.log()


async def test_resend_needs_a_session_and_mails_a_new_link(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        first = token_from(await mailbox.wait_for("ada@example.com"), mail_server, "/email/verify")
        assert_error(await http.post("/v1/auth/email/resend"), 401)
        tokens = await login(http)
        mailbox.clear()
        response = await http.post("/v1/auth/email/resend", headers=bearer(tokens))
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": True}
        second = token_from(
            await mailbox.wait_for("ada@example.com", VERIFY_SUBJECT), mail_server, "/email/verify"
        )
        assert second != first
        assert (await _verify(http, second)).status_code == 200
        # Verifying retires every other outstanding link.
        assert_error(await _verify(http, first), 400, "invalid_token")

        # Already verified: nothing more to send.
        assert_error(
            await http.post("/v1/auth/email/resend", headers=bearer(tokens)),
            409,
            "already_verified",
        )


async def test_resend_is_rate_limited_per_user(
    mail_server_with: MailServerFactory, mailbox: Mailbox
) -> None:
    server = await mail_server_with(ratelimit_mail_per_account="2")
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http)
        tokens = await login(http)
        for _ in range(2):
            response = await http.post("/v1/auth/email/resend", headers=bearer(tokens))
            assert response.status_code == 202
        error = assert_error(
            await http.post("/v1/auth/email/resend", headers=bearer(tokens)), 429, "rate_limited"
        )
        assert error["details"]["retry_after"] > 0
        # Another user is not affected.
        await register(http, email="grace@example.com")
        other = await login(http, "grace@example.com")
        response = await http.post("/v1/auth/email/resend", headers=bearer(other))
        assert response.status_code == 202


async def test_an_expired_link_is_refused(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        token = token_from(await mailbox.wait_for("ada@example.com"), mail_server, "/email/verify")
        await OneTimeToken.filter(user_id=user["id"]).update(
            expires_at=utcnow() - timedelta(seconds=1)
        )
        assert_error(await _verify(http, token), 400, "invalid_token")
        assert (await User.get(id=user["id"])).email_verified_at is None


async def test_a_token_of_another_purpose_does_not_verify(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        await mailbox.wait_for("ada@example.com", VERIFY_SUBJECT)
        assert (
            await http.post("/v1/auth/password/forgot", json={"email": "ada@example.com"})
        ).status_code == 202
        reset = token_from(
            await mailbox.wait_for("ada@example.com", "Reset your password"),
            mail_server,
            "/password/reset",
        )
        assert_error(await _verify(http, reset), 400, "invalid_token")
        assert (await User.get(id=user["id"])).email_verified_at is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"token": 123}, 400),
        ({"token": ["x"]}, 400),
        ({"token": None}, 400),
        ({"token": ""}, 400),
        ({"token": "x" * 129}, 400),
        ({"token": "abc", "extra": 1}, 400),
        ({"token": "unknown-token"}, 400),
        ("not json", 400),
        ([], 400),
    ],
)
async def test_verify_refuses_bad_input(
    mail_server: Server, mailbox: Mailbox, body: Any, status: int
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        before = await row_counts()
        if isinstance(body, str):
            response = await http.post(
                "/v1/auth/email/verify",
                content=body,
                headers={"content-type": "application/json"},
            )
        else:
            response = await http.post("/v1/auth/email/verify", json=body)
        assert_error(response, status)
        assert await row_counts() == before
        assert (await User.get(id=user["id"])).email_verified_at is None


async def test_verify_refuses_a_form_body(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        before = await row_counts()
        response = await http.post("/v1/auth/email/verify", data={"token": "x"})
        assert_error(response, 415, "unsupported_media_type")
        assert await row_counts() == before


@pytest.mark.parametrize(
    "content",
    [b"not json", b'{"unexpected": true}', b"[]", b'{"token": "x"}'],
)
async def test_resend_refuses_a_body_with_anything_in_it(
    mail_server: Server, mailbox: Mailbox, content: bytes
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        tokens = await login(http)
        before = await row_counts()
        response = await http.post(
            "/v1/auth/email/resend",
            content=content,
            headers={**bearer(tokens), "content-type": "application/json"},
        )
        assert_error(response, 400)
        assert await row_counts() == before
