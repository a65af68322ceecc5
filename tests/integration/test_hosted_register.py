"""Registration on /register and the verification link of its mail (/email/verify)."""

from __future__ import annotations

import httpx

from provider.storage.models import AuditEvent, OneTimeToken, User
from tests.hosted import alert_of, field_errors, get, notice_links, post_form
from tests.mail import Mailbox, MailServerFactory, token_from
from tests.oidc import Browser, auth_params, hidden_fields, is_login_page, register_client
from tests.support import PASSWORD, Server, register
from tests.support import login as api_login

EMAIL = "grace@example.com"


async def test_register_then_verify_through_the_mailed_link(
    mail_server: Server, mailbox: Mailbox
) -> None:
    rp = await register_client()
    async with Browser.open(mail_server.url) as browser:
        login = await browser.authorize(auth_params(rp))
        assert is_login_page(login)
        flow = hidden_fields(login.text)["flow"]
        assert f'href="/register?flow={flow}"' in login.text
        assert f'href="/password/forgot?flow={flow}"' in login.text

        form = await get(browser, "/register", flow=flow)
        assert form.status_code == 200
        assert hidden_fields(form.text)["flow"] == flow
        done = await post_form(
            browser,
            "/register",
            form,
            email=" Grace@Example.com ",
            name="Grace Hopper",
            username="grace",
            password=PASSWORD,
        )
        assert done.status_code == 200
        assert "Check your mail" in done.text
        assert EMAIL in done.text
        # Back to the sign-in of the flow the user came from.
        assert notice_links(done) == {"Continue to sign in": f"/login?flow={flow}"}

        mail = await mailbox.wait_for(EMAIL, "Verify")
        token = token_from(mail, mail_server, "/email/verify")
        user = await User.get(email=EMAIL)
        assert user.name == "Grace Hopper"
        assert user.username == "grace"
        assert user.email_verified_at is None

        # Opening the link does not spend it (mail scanners fetch links too).
        for _ in range(2):
            confirm = await get(browser, "/email/verify", token=token)
            assert confirm.status_code == 200
            assert 'action="/email/verify"' in confirm.text
        assert await OneTimeToken.filter(purpose="verify_email", used_at=None).count() == 1
        assert (await User.get(id=user.id)).email_verified_at is None

        no_csrf = await browser.http.post("/email/verify", data={"token": token})
        assert no_csrf.status_code == 400
        assert (await User.get(id=user.id)).email_verified_at is None

        verified = await post_form(browser, "/email/verify", confirm)
        assert verified.status_code == 200
        assert "Email address verified" in verified.text
        assert notice_links(verified) == {"Sign in": "/login"}
        assert (await User.get(id=user.id)).email_verified_at is not None

        spent = await post_form(browser, "/email/verify", confirm)
        assert spent.status_code == 400
        assert "already used" in alert_of(spent)
        gone = await get(browser, "/email/verify", token=token)
        assert gone.status_code == 400
    events = await AuditEvent.filter(user_id=user.id).values_list("event", flat=True)
    assert list(events) == ["user.registered", "email.verified"]
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await api_login(http, EMAIL, PASSWORD)


async def test_each_refused_field_says_why(mail_server: Server, mailbox: Mailbox) -> None:
    async with Browser.open(mail_server.url) as browser:
        await register(browser.http, email="taken@example.com", username="taken")
        form = await get(browser, "/register", next="/account")
        assert hidden_fields(form.text)["next"] == "/account"
        refused = await post_form(
            browser,
            "/register",
            form,
            email="not-an-address",
            name="Grace",
            username="x",
            password="short",
        )
        assert refused.status_code == 422
        errors = field_errors(refused)
        assert set(errors) == {"email", "username", "password"}
        assert "not a valid email" in errors["email"]
        assert "3-64 characters" in errors["username"]
        assert "at least 10 characters" in errors["password"]
        # What was typed is kept, but never the password.
        assert 'value="not-an-address"' in refused.text
        assert 'value="Grace"' in refused.text
        assert "short" not in refused.text
        assert hidden_fields(refused.text)["next"] == "/account"

        common = await post_form(
            browser, "/register", form, email=EMAIL, name="G", password="password123"
        )
        assert "too common" in field_errors(common)["password"]
        breached = await post_form(
            browser, "/register", form, email=EMAIL, name="G", password="California"
        )
        assert "too common" in field_errors(breached)["password"]
        username = await post_form(
            browser,
            "/register",
            form,
            email=EMAIL,
            name="G",
            username="Taken",
            password=PASSWORD,
        )
        assert username.status_code == 409
        assert "taken" in field_errors(username)["username"]
        missing = await post_form(browser, "/register", form, name="G")
        assert missing.status_code == 400
        assert set(field_errors(missing)) == {"email", "password"}
    assert not await User.exists(email=EMAIL)
    assert len(mailbox.to(EMAIL)) == 0


async def test_csrf_is_required_to_register(mail_server: Server, mailbox: Mailbox) -> None:
    async with Browser.open(mail_server.url) as browser:
        await get(browser, "/register")
        fields = {"email": EMAIL, "name": "Grace", "password": PASSWORD}
        for extra in ({}, {"csrf": "0" * 64}):
            response = await browser.http.post("/register", data={**fields, **extra})
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "csrf_failed"
    assert not await User.exists(email=EMAIL)


async def test_registration_shares_the_api_rate_limit(
    mail_server_with: MailServerFactory, mailbox: Mailbox
) -> None:
    server = await mail_server_with(ratelimit_register_per_ip="2")
    async with Browser.open(server.url) as browser:
        await register(browser.http)  # one on the JSON API
        form = await get(browser, "/register")
        fields = {"name": "G", "password": PASSWORD}
        first = await post_form(browser, "/register", form, email=EMAIL, **fields)
        assert first.status_code == 200
        limited = await post_form(browser, "/register", form, email="third@example.com", **fields)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "Too many requests" in alert_of(limited)
    assert not await User.exists(email="third@example.com")


async def test_a_broken_verification_link(server: Server, client: httpx.AsyncClient) -> None:
    for query in ({"token": "not-a-token"}, {}, {"token": "x" * 300}):
        response = await client.get("/email/verify", params=query)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert "invalid, expired or already used" in response.text
