"""Registration does not tell whether an email has an account (issue 10, item 8).

By default a taken address gets the answer of a new registration; nothing is created, the
attempt is audited as `user.register_existing`, and the owner gets a notice mail (at most
`ratelimit_mail_per_account` per address and window). PROVIDER_REGISTRATION_REVEALS_EXISTING
restores the explicit 409 `email_taken`. A taken username is always 409: it is a public handle.
"""

from __future__ import annotations

from typing import Any

import httpx

from provider.storage.models import AuditEvent, OneTimeToken, User
from tests.hosted import field_errors, get, post_form
from tests.mail import Mailbox, MailServerFactory, html_part, links, text_part
from tests.oidc import Browser
from tests.support import PASSWORD, Server, assert_error, register, row_counts

OWNER = "ada@example.com"
NOTICE = "Someone tried to register"


async def _attempt(http: httpx.AsyncClient, email: str, **extra: str) -> httpx.Response:
    return await http.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Impostor", **extra},
    )


async def test_a_taken_email_answers_like_a_new_registration(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        owner = await register(http, email=OWNER, username="ada")
        await mailbox.wait_for(OWNER, "Verify")
        fresh = await _attempt(http, "grace@example.com", username="grace")
        before = await row_counts()
        users_before = await User.all().count()
        taken = await _attempt(http, " ADA@example.com ", username="impostor")

    assert taken.status_code == fresh.status_code == 201
    assert taken.headers["cache-control"] == fresh.headers["cache-control"]
    fake = taken.json()["user"]
    real = fresh.json()["user"]
    assert set(taken.json()) == set(fresh.json()) == {"user"}
    assert set(fake) == set(real)
    assert {key: type(value) for key, value in fake.items()} == {
        key: type(value) for key, value in real.items()
    }
    assert fake["email"] == OWNER
    assert fake["username"] == "impostor"
    assert fake["name"] == "Impostor"
    assert fake["email_verified"] is False
    assert fake["id"] != owner["id"]

    # Nothing created: no user, no verification token; one audit row more.
    assert await User.all().count() == users_before
    assert not await User.exists(id=fake["id"])
    assert not await User.exists(username="impostor")
    after = await row_counts()
    assert after == {**before, "AuditEvent": before["AuditEvent"] + 1}
    assert await OneTimeToken.filter(user_id=owner["id"]).count() == 1  # the first verification
    audit = await AuditEvent.get(event="user.register_existing")
    assert str(audit.user_id) == owner["id"]
    assert audit.outcome == "failure"
    assert audit.details == {"notified": True}

    notice = await mailbox.wait_for(OWNER, NOTICE)
    text = text_part(notice)
    assert "No account was created" in text
    assert f"{mail_server.url}/login" in links(notice)
    assert f"{mail_server.url}/password/forgot" in links(notice)
    assert "No account was created" in html_part(notice)
    assert PASSWORD not in text
    # Only the notice: no verification mail for the attempt.
    assert [str(m["Subject"]) for m in mailbox.to(OWNER)].count("Verify your email address") == 1


async def test_notices_to_one_address_are_rate_limited(
    mail_server_with: MailServerFactory, mailbox: Mailbox
) -> None:
    server = await mail_server_with(ratelimit_mail_per_account="2", tag="notice-limit")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email=OWNER)
        await mailbox.wait_for(OWNER, "Verify")
        statuses = [(await _attempt(http, OWNER)).status_code for _ in range(4)]
    assert statuses == [201] * 4  # the limit is never visible to the caller
    notified = await AuditEvent.filter(event="user.register_existing").order_by("id")
    assert [row.details["notified"] for row in notified] == [True, True, False, False]
    await mailbox.wait_for_all(OWNER, 3)  # the verification and two notices
    assert sum(NOTICE in str(m["Subject"]) for m in mailbox.to(OWNER)) == 2


async def test_a_taken_username_is_409_before_the_email_is_looked_at(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        await register(http, email=OWNER, username="countess")
        before = await row_counts()
        # The same answer whether the email has an account or not.
        for email in (OWNER, "nobody@example.com"):
            assert_error(await _attempt(http, email, username="Countess"), 409, "username_taken")
    assert await row_counts() == before
    assert not await AuditEvent.exists(event="user.register_existing")


async def test_the_setting_restores_the_explicit_409(
    mail_server_with: MailServerFactory, mailbox: Mailbox
) -> None:
    server = await mail_server_with(registration_reveals_existing="true")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email=OWNER)
        before = await row_counts()
        assert_error(await _attempt(http, OWNER), 409, "email_taken")
    assert await row_counts() == before


async def test_the_hosted_page_shows_the_same_outcome(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with Browser.open(mail_server.url) as browser:
        await register(browser.http, email=OWNER)
        form = await get(browser, "/register")
        answers = {}
        for email in ("grace@example.com", "ADA@example.com"):
            answers[email] = await post_form(
                browser, "/register", form, email=email, name="G", password=PASSWORD
            )
    for email, answer in answers.items():
        assert answer.status_code == 200
        assert "Check your mail" in answer.text
        assert email.lower() in answer.text
        assert field_errors(answer) == {}
    await mailbox.wait_for(OWNER, NOTICE)
    assert await User.filter(email=OWNER).count() == 1
    assert await AuditEvent.filter(event="user.register_existing").count() == 1


async def test_the_hosted_page_says_taken_when_the_setting_is_on(
    mail_server_with: Any, mailbox: Mailbox
) -> None:
    server = await mail_server_with(registration_reveals_existing="true")
    async with Browser.open(server.url) as browser:
        await register(browser.http, email=OWNER)
        form = await get(browser, "/register")
        taken = await post_form(
            browser, "/register", form, email="ADA@example.com", name="G", password=PASSWORD
        )
    assert taken.status_code == 409
    assert field_errors(taken) == {"email": "Email An account with this email already exists."}
    assert not mailbox.to(OWNER) or all(NOTICE not in str(m["Subject"]) for m in mailbox.to(OWNER))
