"""The admin console's forms without a browser: invitations by mail, client forms refused with
their reason, CSRF, auditors kept to reading, signing keys rotated, and the dashboard's charts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
from provider.storage.models import AuditEvent, Client, User
from tests.admin_support import account
from tests.hosted import get, post_form, sign_in_for
from tests.mail import Mailbox, token_from
from tests.oidc import Browser, csrf_of, hidden_fields, register_client, sign_in_and_get_code
from tests.support import PASSWORD, Server

NEW_PASSWORD = "an invited passphrase"


@pytest.fixture
async def admin_browser(server: Server) -> AsyncIterator[Browser]:
    async with Browser.open(server.url) as browser:
        await account(browser.http, "root@example.com", "admin")
        await sign_in_for(browser, "root@example.com", PASSWORD, "/admin")
        yield browser


async def test_an_invited_user_chooses_a_password_from_the_mail(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with Browser.open(mail_server.url) as browser:
        await account(browser.http, "root@example.com", "admin")
        await sign_in_for(browser, "root@example.com", PASSWORD, "/admin/users/new")
        form = await get(browser, "/admin/users/new")
        assert form.status_code == 200
        assert 'autocomplete="off"' in form.text
        bad = await post_form(browser, "/admin/users/new", form, email="not-an-address")
        assert bad.status_code == 422
        assert 'id="email-error"' in bad.text
        sent = await post_form(
            browser, "/admin/users/new", form, email="new@example.com", name="Newt", role="auditor"
        )
        assert sent.status_code == 200
        assert "invitation with a link to choose a password is on its way" in sent.text
        invited = await User.get(email="new@example.com")
        assert invited.role == "auditor"
        assert invited.name == "Newt"
        row = await AuditEvent.get(event="admin.user_invited")
        assert row.user_id == invited.id
        assert row.details["role"] == "auditor"
        again = await post_form(browser, "/admin/users/new", form, email="new@example.com")
        assert again.status_code == 409
        assert await User.filter(email="new@example.com").count() == 1

        mail = await mailbox.wait_for("new@example.com", "choose your password")
        token = token_from(mail, mail_server, "/password/reset")
    async with Browser.open(mail_server.url) as invitee:
        page = await get(invitee, "/password/reset", token=token)
        done = await post_form(invitee, "/password/reset", page, password=NEW_PASSWORD)
        assert "Password changed" in done.text
        signed_in = await sign_in_for(invitee, "new@example.com", NEW_PASSWORD, "/admin")
        assert signed_in.status_code == 200
        assert "(read-only)" in signed_in.text
    assert (await User.get(id=invited.id)).email_verified_at is not None


async def test_a_refused_client_form_says_why_and_registers_nothing(
    admin_browser: Browser,
) -> None:
    form = await get(admin_browser, "/admin/clients/new")
    refused = await post_form(
        admin_browser,
        "/admin/clients/new",
        form,
        name="Bad",
        redirect_uris="http://example.com/callback",
        grant_authorization_code="on",
    )
    assert refused.status_code == 400
    assert "must use https" in refused.text
    # What was typed stays in the form.
    assert "http://example.com/callback</textarea>" in refused.text
    assert await Client.filter(name="Bad").count() == 0
    too_long = await post_form(
        admin_browser,
        "/admin/clients/new",
        form,
        name="n" * 201,
        redirect_uris="https://app.example/cb",
        grant_authorization_code="on",
    )
    assert too_long.status_code == 400
    assert "name must be at most 200 characters" in too_long.text
    assert await Client.exclude(id=FIRST_PARTY_CLIENT_ID).count() == 0  # none registered

    no_csrf = await admin_browser.http.post(
        "/admin/clients/new", data={"name": "Sneaky", "redirect_uris": "https://a.example/cb"}
    )
    assert no_csrf.status_code == 400
    assert await Client.filter(name="Sneaky").count() == 0


async def test_an_edit_changes_the_client_and_a_deletion_needs_its_id(
    admin_browser: Browser,
) -> None:
    form = await get(admin_browser, "/admin/clients/new")
    created = await post_form(
        admin_browser,
        "/admin/clients/new",
        form,
        name="Editable",
        type="public",
        redirect_uris="https://app.example/cb",
        grant_authorization_code="on",
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    assert 'id="client-secret"' not in created.text
    client = await Client.get(name="Editable")
    assert client.public

    page = await get(admin_browser, f"/admin/clients/{client.id}")
    fields = {**hidden_fields(page.text), "name": "Edited", "redirect_uris": "https://b.example/cb"}
    fields["grant_authorization_code"] = "on"
    edited = await admin_browser.follow(
        await admin_browser.http.post(f"/admin/clients/{client.id}", data=fields)
    )
    assert "Client updated." in edited.text
    stored = await Client.get(id=client.id)
    assert stored.name == "Edited"
    assert stored.redirect_uris == ["https://b.example/cb"]
    assert (await AuditEvent.get(event="admin.client_updated")).details["fields"] == [
        "audience",
        "first_party",
        "grant_types",
        "logo_uri",
        "name",
        "post_logout_redirect_uris",
        "redirect_uris",
        "scopes",
    ]

    csrf = csrf_of(page.text)
    wrong = await admin_browser.http.post(
        f"/admin/clients/{client.id}/delete", data={"csrf": csrf, "confirm": "nope"}
    )
    assert wrong.status_code == 400
    assert await Client.filter(id=client.id).count() == 1
    deleted = await admin_browser.http.post(
        f"/admin/clients/{client.id}/delete", data={"csrf": csrf, "confirm": client.id}
    )
    assert deleted.status_code == 200
    assert "Edited was deleted" in deleted.text
    assert await Client.filter(id=client.id).count() == 0
    assert await AuditEvent.filter(event="admin.client_deleted", client_id=client.id).count() == 1


async def test_auditors_read_the_console_but_cannot_change_it(server: Server) -> None:
    async with Browser.open(server.url) as browser:
        await account(browser.http, "audit@example.com", "auditor")
        await sign_in_for(browser, "audit@example.com", PASSWORD, "/admin")
        for path in ("/admin/dashboard", "/admin/keys", "/admin/clients"):
            page = await browser.http.get(path)
            assert page.status_code == 200, path
            assert 'method="post"' not in page.text, path
        assert (await browser.http.get("/admin/clients/new")).status_code == 403
        # The role is checked first: the form token does not matter.
        refused = await browser.http.post("/admin/keys/rotate", data={"csrf": "x", "alg": "ES256"})
        assert refused.status_code == 403
    forbidden = await AuditEvent.filter(event="admin.forbidden").count()
    assert forbidden >= 1


async def test_rotating_a_key_publishes_the_next_one(
    server_with: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A keys folder of its own: the other servers' keys stay as they are.
    server: Server = await server_with(keys_dir=str(tmp_path_factory.mktemp("console-keys")))
    async with Browser.open(server.url) as browser:
        await account(browser.http, "root@example.com", "admin")
        await sign_in_for(browser, "root@example.com", PASSWORD, "/admin/keys")
        page = await get(browser, "/admin/keys")
        assert page.text.count("data-kid=") == 1
        rotated = await post_form(browser, "/admin/keys/rotate", page, alg="ES256")
        assert rotated.status_code == 200
        row = await AuditEvent.get(event="admin.key_rotated")
        assert row.details["alg"] == "ES256"
        assert rotated.text.count("data-kid=") == 2
        assert f'data-kid="{row.details["kid"]}"' in rotated.text
        assert "published, not signing yet" in rotated.text
        jwks = (await browser.http.get("/jwks")).json()
        assert row.details["kid"] in {key["kid"] for key in jwks["keys"]}


async def test_the_dashboard_draws_one_bar_per_day(admin_browser: Browser) -> None:
    page = await admin_browser.http.get("/admin/dashboard")
    assert page.status_code == 200
    assert page.text.count('<figure class="chart"') == 7
    assert page.text.count('class="chart-bar"') == 7 * 14
    assert "<script" not in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_audit_trail_names_users_and_clients_and_marks_failures(
    admin_browser: Browser, client: httpx.AsyncClient
) -> None:
    rp = await register_client(name="Shop")
    await account(client, "ada@example.com")
    refused = await client.post(
        "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": "wrong password"}
    )
    assert refused.status_code == 401
    ada = await User.get(email="ada@example.com")
    async with Browser.open(str(client.base_url)) as user_browser:
        await sign_in_and_get_code(user_browser, rp, "ada@example.com", PASSWORD)

    today = datetime.now(UTC).date().isoformat()
    page = await admin_browser.http.get("/admin/audit", params={"from": today, "to": today})
    assert page.status_code == 200
    assert f'value="{today}"' in page.text
    assert f'<a href="/admin/users/{ada.id}">ada@example.com</a>' in page.text
    assert f'<a href="/admin/clients/{rp.client_id}">Shop</a>' in page.text
    failures = re.findall(
        r'<tr data-event-id="\d+" class="failure">\s*<td>[^<]*</td>\s*<td>([^<]+)', page.text
    )
    assert "user.login_failed" in failures
    assert all(event != "user.login" for event in failures)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    before = await admin_browser.http.get("/admin/audit", params={"to": yesterday})
    assert "No events match." in before.text

    detail = await admin_browser.http.get(f"/admin/users/{ada.id}")
    assert "via Shop" in detail.text
    assert "python-httpx" in detail.text  # the device name shown for httpx's user agent
