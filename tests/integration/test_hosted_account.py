"""The account pages of a signed-in browser: /account and changing the password there."""

from __future__ import annotations

import httpx

from provider.storage.models import AuditEvent, Session, User
from tests.hosted import field_errors, get, notice_links, post_form, sign_in_for
from tests.mail import Mailbox, token_from
from tests.oidc import Browser
from tests.support import PASSWORD, Server, assert_error, bearer, register
from tests.support import login as api_login

EMAIL = "ada@example.com"
NEW_PASSWORD = "a brand new passphrase"


async def test_the_account_page_needs_a_session_and_comes_back_after_sign_in(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client, username="ada")
    async with Browser.open(server.url) as browser:
        for path in ("/account", "/account/password", "/account/mfa"):
            gate = await browser.http.get(path)
            assert gate.status_code == 303
            assert gate.headers["location"].startswith("/login?next=%2Faccount")
        page = await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        assert page.status_code == 200
        assert browser.pages[-1] == "/account"
        assert EMAIL in page.text
        assert 'id="email-status">not verified<' in page.text
        assert 'id="mfa-status">off<' in page.text
        for link in ('href="/account/mfa"', 'href="/account/password"', 'href="/logout"'):
            assert link in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text


async def test_the_login_page_links_to_register_and_forgot(
    server: Server, client: httpx.AsyncClient
) -> None:
    page = await client.get("/login", params={"next": "/account"})
    assert 'href="/register?next=%2Faccount"' in page.text
    assert 'href="/password/forgot?next=%2Faccount"' in page.text


async def test_changing_the_password_signs_out_the_other_sessions(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    other = await api_login(client)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        form = await get(browser, "/account/password")
        assert form.status_code == 200

        wrong = await post_form(
            browser,
            "/account/password",
            form,
            current_password="not my password",
            new_password=NEW_PASSWORD,
        )
        assert wrong.status_code == 403
        assert "incorrect" in field_errors(wrong)["current_password"]
        weak = await post_form(
            browser, "/account/password", form, current_password=PASSWORD, new_password="short"
        )
        assert weak.status_code == 422
        assert "at least 10 characters" in field_errors(weak)["new_password"]
        breached = await post_form(
            browser,
            "/account/password",
            form,
            current_password=PASSWORD,
            new_password="qwerty12345",
        )
        assert breached.status_code == 422
        assert "too common" in field_errors(breached)["new_password"]
        empty = await post_form(browser, "/account/password", form, current_password=PASSWORD)
        assert empty.status_code == 400
        assert field_errors(empty) == {"new_password": "New password is required"}
        no_csrf = await browser.http.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert no_csrf.status_code == 400
        hash_before = (await User.get(id=user["id"])).password_hash

        done = await post_form(
            browser,
            "/account/password",
            form,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
        )
        assert done.status_code == 200
        assert "1 other session signed out" in done.text
        assert notice_links(done) == {"Back to your account": "/account"}
        # This browser stays signed in; the API session is over.
        assert (await get(browser, "/account")).status_code == 200
    assert (await User.get(id=user["id"])).password_hash != hash_before
    assert_error(await client.get("/v1/auth/me", headers=bearer(other)), 401)
    assert (await Session.get(id=other["session"]["id"])).revoked_reason == "password_changed"
    assert await AuditEvent.filter(event="password.changed", user_id=user["id"]).count() == 1
    await api_login(client, EMAIL, NEW_PASSWORD)


async def test_a_new_verification_link_from_the_account_page(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with Browser.open(mail_server.url) as browser:
        await register(browser.http)
        await mailbox.wait_for(EMAIL, "Verify")
        page = await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        refused = await browser.http.post("/email/resend", data={"next": "/account"})
        assert refused.status_code == 400
        sent = await post_form(browser, "/email/resend", page)
        assert sent.status_code == 200
        assert notice_links(sent) == {"Continue": "/account"}
        second = (await mailbox.wait_for_all(EMAIL, 2))[1]
        # The CSRF-less post sent nothing: exactly two mails, the registration's and this one.
        assert len(mailbox.to(EMAIL)) == 2
        token = token_from(second, mail_server, "/email/verify")
        confirm = await get(browser, "/email/verify", token=token)
        verified = await post_form(browser, "/email/verify", confirm)
        assert notice_links(verified) == {"Go to your account": "/account"}
        account = await get(browser, "/account")
        assert 'id="email-status">verified<' in account.text
        again = await post_form(browser, "/email/resend", page)  # the form of before
        # Already verified: nothing to send, said on a page.
        assert again.status_code == 409
        assert "already verified" in again.text
        assert len(mailbox.to(EMAIL)) == 2
