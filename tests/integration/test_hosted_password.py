"""A forgotten password on the hosted pages: /password/forgot, the mail, /password/reset."""

from __future__ import annotations

import httpx

from provider.storage.models import OneTimeToken, Session, User
from tests.hosted import alert_of, field_errors, get, notice_links, post_form, sign_in_for
from tests.mail import Mailbox, MailServerFactory, token_from
from tests.oidc import Browser, hidden_fields
from tests.support import PASSWORD, Server, assert_error, bearer, register
from tests.support import login as api_login

EMAIL = "ada@example.com"
NEW_PASSWORD = "a brand new passphrase"


async def test_forgot_then_reset_signs_everything_out_and_the_new_password_works(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with Browser.open(mail_server.url) as browser:
        user = await register(browser.http)
        api_session = await api_login(browser.http)
        await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        mailbox.clear()

        form = await get(browser, "/password/forgot", next="/account")
        assert hidden_fields(form.text)["next"] == "/account"
        sent = await post_form(browser, "/password/forgot", form, email=EMAIL)
        unknown = await post_form(browser, "/password/forgot", form, email="nobody@example.com")
        # The same page whether or not an account uses the address.
        assert sent.status_code == unknown.status_code == 200
        assert sent.text.replace(sent.headers["x-request-id"], "") == unknown.text.replace(
            unknown.headers["x-request-id"], ""
        )
        assert "If an account uses this address" in sent.text
        assert notice_links(sent) == {"Back to sign in": "/login?next=%2Faccount"}

        mail = await mailbox.wait_for(EMAIL, "Reset")
        token = token_from(mail, mail_server, "/password/reset")
        assert mailbox.to("nobody@example.com") == []

        page = await get(browser, "/password/reset", token=token)
        assert page.status_code == 200
        assert hidden_fields(page.text)["token"] == token
        weak = await post_form(browser, "/password/reset", page, password="short")
        assert weak.status_code == 422
        assert "at least 10 characters" in field_errors(weak)["password"]
        breached = await post_form(browser, "/password/reset", page, password="Terminator")
        assert breached.status_code == 422
        assert "too common" in field_errors(breached)["password"]
        # A refused password leaves the link usable.
        assert await OneTimeToken.filter(purpose="reset_password", used_at=None).count() == 1
        no_csrf = await browser.http.post(
            "/password/reset", data={"token": token, "password": NEW_PASSWORD}
        )
        assert no_csrf.status_code == 400
        assert await OneTimeToken.filter(purpose="reset_password", used_at=None).count() == 1

        done = await post_form(browser, "/password/reset", page, password=NEW_PASSWORD)
        assert done.status_code == 200
        assert "Password changed" in done.text
        assert notice_links(done) == {"Sign in": "/login?next=/account"}
        # Every session ended: this browser's and the API's.
        gate = await browser.http.get("/account")
        assert gate.status_code == 303
        assert_error(await browser.http.get("/v1/auth/me", headers=bearer(api_session)), 401)
        assert await Session.filter(user_id=user["id"], revoked_at=None).count() == 0

        again = await post_form(browser, "/password/reset", page, password=NEW_PASSWORD + "!")
        assert again.status_code == 400
        assert "already used" in alert_of(again)

        old = await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        assert old.status_code == 401
        signed_in = await sign_in_for(browser, EMAIL, NEW_PASSWORD, "/account")
        assert signed_in.status_code == 200
        assert browser.pages[-1] == "/account"
    stored = await User.get(id=user["id"])
    # The link reached the mailbox: that proves the address too.
    assert stored.email_verified_at is not None


async def test_csrf_is_required_to_ask_for_a_link(mail_server: Server, mailbox: Mailbox) -> None:
    async with Browser.open(mail_server.url) as browser:
        await register(browser.http)
        await mailbox.wait_for(EMAIL, "Verify")
        await get(browser, "/password/forgot")
        response = await browser.http.post("/password/forgot", data={"email": EMAIL})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "csrf_failed"
    assert await OneTimeToken.filter(purpose="reset_password").count() == 0


async def test_a_broken_reset_link(server: Server, client: httpx.AsyncClient) -> None:
    for query in ({"token": "not-a-token"}, {}):
        response = await client.get("/password/reset", params=query)
        assert response.status_code == 400
        assert "invalid, expired or already used" in response.text
    async with Browser.open(server.url) as browser:
        page = await get(browser, "/password/forgot")
        forged = await browser.http.post(
            "/password/reset",
            data={"csrf": hidden_fields(page.text)["csrf"], "token": "x", "password": NEW_PASSWORD},
        )
        assert forged.status_code == 400
        assert "invalid, expired or already used" in forged.text


async def test_asking_for_links_shares_the_api_rate_limit(
    mail_server_with: MailServerFactory, mailbox: Mailbox
) -> None:
    server = await mail_server_with(ratelimit_mail_per_account="2")
    async with Browser.open(server.url) as browser:
        await register(browser.http)
        api = await browser.http.post("/v1/auth/password/forgot", json={"email": EMAIL})
        assert api.status_code == 202
        form = await get(browser, "/password/forgot")
        assert (await post_form(browser, "/password/forgot", form, email=EMAIL)).status_code == 200
        limited = await post_form(browser, "/password/forgot", form, email=EMAIL)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "Too many requests" in alert_of(limited)
        assert hidden_fields(limited.text)["csrf"]
    assert await OneTimeToken.filter(purpose="reset_password").count() == 2
