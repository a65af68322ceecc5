"""Passkeys on the hosted pages, walked with httpx and a software authenticator: the login
page's ceremony (autofill field, script under the CSP nonce, HttpOnly ceremony cookie), adding
one on /account/passkeys, a sign-in with the passkey alone inside an authorization request
(amr hwk, user, mfa and the MFA acr in the ID token), a passkey as the step-up after a password
for a client that requires two factors, bad answers shown as page messages, and the removal
rules."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import httpx

from provider.storage.models import AuditEvent, Client, Passkey, Session, User
from provider.storage.unit_of_work import utcnow
from tests.admin_support import account
from tests.hosted import (
    alert_of,
    back_at_client,
    get,
    id_token_claims,
    post_form,
    set_cookie_names,
    sign_in_for,
)
from tests.oidc import Browser, auth_params, hidden_fields, is_login_page, register_client
from tests.passkey_authenticator import SoftAuthenticator
from tests.support import PASSWORD, Server, register

EMAIL = "ada@example.com"
ACR_MFA = "urn:provider:acr:mfa"
_OPTIONS = re.compile(r'<script type="application/json" id="passkey-options">(.*?)</script>', re.S)


def options_of(page: httpx.Response) -> dict[str, Any]:
    match = _OPTIONS.search(page.text)
    assert match, page.text[:800]
    options: dict[str, Any] = json.loads(match.group(1))
    return options


def passkey_fields(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the page's passkey form only."""
    form = re.search(r'<form[^>]*id="passkey-form".*?</form>', page.text, re.S)
    assert form, page.text[:800]
    return hidden_fields(form.group(0))


async def post_passkey(
    browser: Browser, page: httpx.Response, credential: str, **fields: str
) -> httpx.Response:
    action = re.search(r'action="([^"]+)" id="passkey-form"', page.text)
    assert action
    data = {**passkey_fields(page), "credential": credential, **fields}
    return await browser.follow(await browser.http.post(unescape(action.group(1)), data=data))


def _device(server: Server) -> SoftAuthenticator:
    return SoftAuthenticator(server.url, urlsplit(server.url).hostname or "")


async def _add_passkey(
    browser: Browser, device: SoftAuthenticator, name: str = ""
) -> httpx.Response:
    page = await get(browser, "/account/passkeys")
    assert page.status_code == 200, page.text[:800]
    done = await post_passkey(browser, page, device.create(options_of(page)), name=name)
    assert done.status_code == 200, done.text[:800]
    return done


async def _enrolled(
    server: Server, client: httpx.AsyncClient
) -> tuple[dict[str, Any], SoftAuthenticator]:
    user = await register(client)
    device = _device(server)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD)
        await _add_passkey(browser, device)
    return user, device


async def test_the_login_page_offers_a_passkey_and_the_password_still_works(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    async with Browser.open(server.url) as browser:
        page = await browser.http.get("/login", params={"next": "/account"})
        assert 'autocomplete="username webauthn"' in page.text
        options = options_of(page)
        assert options["rpId"] == urlsplit(server.url).hostname
        assert options["userVerification"] == "preferred"
        nonce = re.search(r'<script src="/static/passkeys.js" nonce="([^"]+)">', page.text)
        assert nonce
        assert f"script-src 'nonce-{nonce.group(1)}'" in page.headers["content-security-policy"]
        assert "passkey" in set_cookie_names(page)
        assert "httponly" in page.headers["set-cookie"].lower()
        script = await browser.http.get("/static/passkeys.js")
        assert script.status_code == 200
        assert "isConditionalMediationAvailable" in script.text
        # Without JavaScript: the password form alone.
        account = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
        assert "Signed in as" in account.text


async def test_a_passkey_added_on_the_account_page_signs_in_alone(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    device = _device(server)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD)
        page = await get(browser, "/account/passkeys")
        assert 'id="no-passkeys"' in page.text
        assert options_of(page)["user"]["name"] == EMAIL
        done = await post_passkey(browser, page, device.create(options_of(page)), name="My key")
        assert "The passkey is added" in done.text
        assert "My key" in done.text
        assert await AuditEvent.filter(event="passkey.added", user_id=user["id"]).count() == 1
    async with Browser.open(server.url) as browser:
        page = await browser.http.get("/login", params={"next": "/account"})
        account = await post_passkey(browser, page, device.get(options_of(page)))
        assert "Signed in as" in account.text
    session = await Session.filter(user_id=user["id"]).order_by("-created_at").first()
    assert session is not None
    assert session.amr == ["hwk", "user", "mfa"]
    assert (await Passkey.get(user_id=user["id"])).last_used_at is not None


async def test_a_passkey_alone_completes_an_authorization_request(
    server: Server, client: httpx.AsyncClient
) -> None:
    _, device = await _enrolled(server, client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        assert is_login_page(page)
        response = await post_passkey(browser, page, device.get(options_of(page)))
        query = await back_at_client(browser, response, rp)
    claims = await id_token_claims(client, rp, query["code"])
    assert claims["amr"] == ["hwk", "user", "mfa"]
    assert claims["acr"] == ACR_MFA


async def test_a_client_that_requires_mfa_accepts_a_password_and_a_passkey(
    server: Server, client: httpx.AsyncClient
) -> None:
    _, device = await _enrolled(server, client)
    rp = await register_client(name="Strict App")
    await Client.filter(id=rp.client_id).update(require_mfa=True)
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        step_up = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
        assert browser.pages[-1].startswith("/login/mfa?flow="), step_up.text[:800]
        assert 'action="/login/mfa"' not in step_up.text  # no TOTP: the passkey only
        options = options_of(step_up)
        assert len(options["allowCredentials"]) == 1
        done = await post_passkey(browser, step_up, device.get(options))
        query = await back_at_client(browser, done, rp)
    claims = await id_token_claims(client, rp, query["code"])
    assert claims["amr"] == ["pwd", "hwk", "user", "mfa"]
    assert claims["acr"] == ACR_MFA


async def test_bad_answers_are_page_messages_with_an_audit_row(
    server: Server, client: httpx.AsyncClient
) -> None:
    user, device = await _enrolled(server, client)
    async with Browser.open(server.url) as browser:
        page = await browser.http.get("/login", params={"next": "/account"})
        options = options_of(page)
        wrong_origin = await post_passkey(
            browser, page, device.get(options, origin="http://evil.example")
        )
        assert wrong_origin.status_code == 400
        assert alert_of(wrong_origin) == "The passkey response could not be verified; try again."
        # The ceremony was answered: the same challenge again, with its cookie, is refused.
        browser.http.cookies.delete("passkey")
        browser.http.cookies.set("passkey", page.cookies["passkey"])
        replayed = await post_passkey(browser, page, device.get(options))
        assert replayed.status_code == 400
        assert "expired or was already used" in alert_of(replayed)
        malformed = await post_passkey(browser, replayed, "{not json")
        assert malformed.status_code == 400
        other = await post_passkey(browser, malformed, _device(server).get(options_of(malformed)))
        assert other.status_code == 401
        assert alert_of(other) == "This passkey cannot sign you in."
    reasons = [
        e.details["reason"]
        for e in await AuditEvent.filter(event="user.login_failed").order_by("id")
    ]
    assert reasons == [
        "invalid_passkey",
        "invalid_passkey_challenge",
        "invalid_passkey",
        "passkey_refused",
    ]
    assert await Session.filter(user_id=user["id"], cookie_hash__isnull=False).count() == 1


async def test_removal_needs_a_recent_sign_in_and_keeps_a_way_to_sign_in(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD)
        await _add_passkey(browser, _device(server), name="Only")
        [passkey] = await Passkey.filter(user_id=user["id"])
        page = await get(browser, "/account/passkeys")

        await User.filter(id=user["id"]).update(password_hash="")
        last = await post_form(browser, f"/account/passkeys/{passkey.id}/remove", page)
        assert last.status_code == 409
        assert "only way to sign in" in alert_of(last)

        await Session.filter(user_id=user["id"]).update(auth_time=utcnow() - timedelta(hours=1))
        stale = await browser.http.post(
            f"/account/passkeys/{passkey.id}/remove", data=hidden_fields(page.text)
        )
        assert stale.status_code == 303
        assert stale.headers["location"].startswith("/login?next=%2Faccount%2Fpasskeys&reauth=1")
        assert await Passkey.filter(user_id=user["id"]).count() == 1
        listed = await get(browser, "/account/passkeys")
        assert 'id="confirm-identity"' in listed.text
        assert 'id="passkey-form"' not in listed.text


async def test_the_admin_user_page_lists_and_removes_a_users_passkeys(
    server: Server, client: httpx.AsyncClient
) -> None:
    user, _ = await _enrolled(server, client)
    await account(client, "root@example.com", "admin")
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, "root@example.com", PASSWORD, next_path="/admin")
        page = await get(browser, f"/admin/users/{user['id']}")
        [passkey] = await Passkey.filter(user_id=user["id"])
        assert f'id="passkey-{passkey.id}"' in page.text
        done = await post_form(
            browser, f"/admin/users/{user['id']}/passkeys/{passkey.id}/remove", page
        )
        assert "Passkey removed." in done.text
    assert await Passkey.filter(user_id=user["id"]).count() == 0
    removed = await AuditEvent.get(event="passkey.removed")
    assert str(removed.user_id) == user["id"]
    assert removed.details["passkey_id"] == str(passkey.id)
