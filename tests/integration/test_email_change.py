"""Changing the email address: asked with the password (or a recent sign-in), confirmed by a
link to the new address, cancellable (even undone) by a link in the notice to the old one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from provider.storage.models import AuditEvent, OneTimeToken, Session, User
from provider.storage.unit_of_work import utcnow
from tests.hosted import get, post_form, sign_in_for
from tests.mail import Mailbox, text_part, token_from
from tests.oidc import Browser
from tests.support import PASSWORD, Server, assert_error, bearer, login, register

OLD = "ada@example.com"
NEW = "countess@example.com"
CONFIRM_SUBJECT = "Confirm your new email address"
NOTICE_SUBJECT = "Your email address is being changed"


async def _ask(http: httpx.AsyncClient, tokens: dict[str, Any], **body: Any) -> httpx.Response:
    return await http.post(
        "/v1/auth/email/change",
        json={"new_email": NEW, "current_password": PASSWORD, **body},
        headers=bearer(tokens),
    )


async def _links(mailbox: Mailbox, server: Server) -> tuple[str, str]:
    confirm = await mailbox.wait_for(NEW, CONFIRM_SUBJECT)
    notice = await mailbox.wait_for(OLD, NOTICE_SUBJECT)
    assert NEW in text_part(notice)
    return (
        token_from(confirm, server, "/email/change/confirm"),
        token_from(notice, server, "/email/change/cancel"),
    )


async def _email(user_id: str) -> tuple[str, bool]:
    user = await User.get(id=user_id)
    return user.email, user.email_verified_at is not None


async def test_the_address_changes_only_when_the_new_one_is_confirmed(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        tokens = await login(http)
        response = await _ask(http, tokens)
        assert response.status_code == 202, response.text
        assert response.json() == {"pending_email": NEW}
        confirm, _ = await _links(mailbox, mail_server)
        assert await _email(user["id"]) == (OLD, False)
        assert await AuditEvent.exists(event="email.change_requested", user_id=user["id"])

        done = await http.post("/v1/auth/email/change/confirm", json={"token": confirm})
        assert done.status_code == 200, done.text
        assert done.json()["user"]["email"] == NEW
        assert done.json()["user"]["email_verified"] is True
        assert await _email(user["id"]) == (NEW, True)
        changed = await AuditEvent.get(event="email.changed")
        assert changed.details == {"old_email": OLD, "new_email": NEW}
        # The sessions stay, and the new address signs in.
        me = await http.get("/v1/auth/me", headers=bearer(tokens))
        assert me.status_code == 200
        assert me.json()["user"]["email"] == NEW
        await login(http, NEW)

        reused = await http.post("/v1/auth/email/change/confirm", json={"token": confirm})
        assert_error(reused, 400, "invalid_token")
        assert await _email(user["id"]) == (NEW, True)


async def test_the_notice_cancels_a_pending_change(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        tokens = await login(http)
        assert (await _ask(http, tokens)).status_code == 202
        confirm, cancel = await _links(mailbox, mail_server)
        cancelled = await http.post("/v1/auth/email/change/cancel", json={"token": cancel})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["user"]["email"] == OLD
        assert await AuditEvent.exists(event="email.change_cancelled", user_id=user["id"])
        late = await http.post("/v1/auth/email/change/confirm", json={"token": confirm})
        assert_error(late, 400, "invalid_token")
        assert await _email(user["id"]) == (OLD, False)
        assert (await http.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200


async def test_the_notice_undoes_a_confirmed_change_and_ends_every_session(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        await User.filter(id=user["id"]).update(email_verified_at=utcnow())
        tokens = await login(http)
        assert (await _ask(http, tokens)).status_code == 202
        confirm, cancel = await _links(mailbox, mail_server)
        assert (
            await http.post("/v1/auth/email/change/confirm", json={"token": confirm})
        ).status_code == 200
        undone = await http.post("/v1/auth/email/change/cancel", json={"token": cancel})
        assert undone.status_code == 200, undone.text
        assert await _email(user["id"]) == (OLD, True)
        assert await AuditEvent.exists(event="email.change_reverted", user_id=user["id"])
        assert_error(await http.get("/v1/auth/me", headers=bearer(tokens)), 401)
        assert await Session.filter(user_id=user["id"], revoked_at=None).count() == 0
        again = await http.post("/v1/auth/email/change/cancel", json={"token": cancel})
        assert_error(again, 400, "invalid_token")


async def test_refused_requests_change_nothing_and_mail_nothing(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        await register(http, email="grace@example.com")
        tokens = await login(http)
        mailbox.clear()
        cases = [
            ({"new_email": "grace@example.com"}, 409, "email_taken"),
            ({"new_email": "GRACE@example.com "}, 409, "email_taken"),
            ({"new_email": "not an address"}, 422, "validation_failed"),
            ({"new_email": "ada@example.com"}, 422, "validation_failed"),
            ({"current_password": "wrong password!"}, 403, "invalid_password"),
            ({"surprise": True}, 400, None),
        ]
        for body, status, code in cases:
            assert_error(await _ask(http, tokens, **body), status, code)
        # Without the password, only a recent sign-in will do.
        await Session.filter(user_id=user["id"]).update(auth_time=utcnow() - timedelta(days=1))
        stale = await http.post(
            "/v1/auth/email/change", json={"new_email": NEW}, headers=bearer(tokens)
        )
        assert_error(stale, 403, "reauthentication_required")
        assert_error(
            await http.post("/v1/auth/email/change", json={"new_email": NEW}), 401, "unauthorized"
        )
        assert await _email(user["id"]) == (OLD, False)
        assert not await OneTimeToken.exists(purpose="change_email")
        assert not await AuditEvent.exists(event="email.change_requested")
        assert await AuditEvent.filter(event="email.change_failed").count() == 1
        assert mailbox.to(NEW) == []
        assert [m for m in mailbox.to(OLD) if NOTICE_SUBJECT in str(m["Subject"])] == []


async def test_a_recent_sign_in_needs_no_password(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        tokens = await login(http)
        response = await http.post(
            "/v1/auth/email/change", json={"new_email": NEW}, headers=bearer(tokens)
        )
        assert response.status_code == 202, response.text
        await _links(mailbox, mail_server)


async def test_expired_links_and_a_taken_address_are_refused(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
        tokens = await login(http)
        assert (await _ask(http, tokens)).status_code == 202
        confirm, cancel = await _links(mailbox, mail_server)
        # Someone registers the new address before the link is opened.
        await register(http, email=NEW)
        taken = await http.post("/v1/auth/email/change/confirm", json={"token": confirm})
        assert_error(taken, 409, "email_taken")
        assert await _email(user["id"]) == (OLD, False)
        await OneTimeToken.filter(user_id=user["id"]).update(expires_at=utcnow())
        for path, token in (("confirm", confirm), ("cancel", cancel)):
            expired = await http.post(f"/v1/auth/email/change/{path}", json={"token": token})
            assert_error(expired, 400, "invalid_token")
        assert await _email(user["id"]) == (OLD, False)
        assert not await AuditEvent.exists(event="email.changed")


async def test_the_pages_change_the_address(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
    async with Browser.open(mail_server.url) as browser:
        await sign_in_for(browser, OLD, PASSWORD, "/account")
        form = await get(browser, "/account/email")
        assert 'id="email-form"' in form.text
        wrong = await post_form(
            browser, "/account/email", form, new_email=NEW, current_password="not it at all"
        )
        assert wrong.status_code == 403
        assert 'id="current_password-error"' in wrong.text
        sent = await post_form(
            browser, "/account/email", form, new_email=NEW, current_password=PASSWORD
        )
        assert sent.status_code == 200
        assert "Check your new address" in sent.text
        confirm, _ = await _links(mailbox, mail_server)
        shown = await get(browser, "/email/change/confirm", token=confirm)
        assert shown.status_code == 200
        assert NEW in shown.text
        assert await _email(user["id"]) == (OLD, False)
        done = await post_form(browser, "/email/change/confirm", shown)
        assert done.status_code == 200
        assert f"Your address is now {NEW}." in done.text
        assert await _email(user["id"]) == (NEW, True)
        reused = await post_form(browser, "/email/change/confirm", shown)
        assert reused.status_code == 400
        assert (await get(browser, "/email/change/confirm", token=confirm)).status_code == 400
