"""The pages and mails in the reader's language: ui_locales, then the profile's locale, then
Accept-Language, then the default; `lang` and Content-Language follow."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable

import httpx
import pytest
import redis.asyncio as redis

from provider.storage.models import Client
from tests.hosted import sign_in_for
from tests.integration.conftest import Mailbox, html_part, text_part
from tests.oidc import (
    Browser,
    auth_params,
    csrf_of,
    flow_of,
    is_consent_page,
    is_login_page,
    register_client,
)
from tests.support import PASSWORD, Server, bearer, login, register


def _lang(response: httpx.Response) -> str:
    match = re.search(r'<html lang="([^"]+)">', response.text)
    assert match, response.text[:300]
    return match.group(1)


async def test_ui_locales_de_gives_the_german_sign_in_and_consent_of_that_request(
    server: Server,
) -> None:
    rp = await register_client()
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http)
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp, ui_locales="ja de-CH fr"))
        assert is_login_page(page)
        assert _lang(page) == "de"
        assert page.headers["content-language"] == "de"
        assert "<h1>Anmelden</h1>" in page.text
        assert "E-Mail oder Benutzername" in page.text
        assert "um zu <strong>Example App</strong> zu gelangen" in page.text

        wrong = await browser.submit_login(page, "ada@example.com", "not the password")
        assert "E-Mail-Adresse, Benutzername oder Passwort ist falsch." in wrong.text

        # The browser asks for English, but the request said German: consent stays German.
        browser.http.headers["Accept-Language"] = "en"
        consent = await browser.submit_login(page, "ada@example.com", PASSWORD)
        assert is_consent_page(consent)
        assert _lang(consent) == "de"
        assert "möchte auf Ihr Konto zugreifen" in consent.text
        assert "Ihre E-Mail-Adresse sehen" in consent.text  # the email scope, described


async def test_a_step_that_authorize_renders_itself_speaks_the_requests_language(
    server: Server,
) -> None:
    """Signed in already, the browser meets the verify-email step straight from /authorize
    (no `?flow=` yet): it is in the language of that request's ui_locales."""
    lenient = await register_client()
    strict = await register_client(name="Strict App")
    await Client.filter(id=strict.client_id).update(require_verified_email=True)
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http)
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(lenient))
        await browser.submit_login(page, "ada@example.com", PASSWORD)
        browser.http.headers["Accept-Language"] = "en"
        verify = await browser.authorize(auth_params(strict, ui_locales="de"))
        assert verify.status_code == 403
        assert 'action="/email/resend"' in verify.text
        assert _lang(verify) == "de"
        assert verify.headers["content-language"] == "de"


async def _flow_reads(redis_url: str, flow_id: str, request: Awaitable[httpx.Response]) -> int:
    """How many times the server reads the flow from Redis while it answers `request`."""
    client = redis.Redis.from_url(redis_url)
    marker = f"marker-{secrets.token_hex(8)}"
    reads = 0
    async with client.monitor() as monitor, asyncio.timeout(10):
        response = await request
        assert response.status_code == 200, response.text[:300]
        await client.get(marker)
        while (command := (await monitor.next_command())["command"]) != f"GET {marker}":
            reads += command == f"GET flow:{flow_id}"
    await client.aclose()
    return reads


async def test_a_page_in_a_request_reads_its_flow_once(server: Server, redis_url: str) -> None:
    """The login and consent pages choose their language from the flow their handler read."""
    if not redis_url:
        pytest.skip("the reads are counted on the Redis of the server")
    rp = await register_client()
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http)
    async with Browser.open(server.url) as browser:
        login_page = await browser.authorize(auth_params(rp, ui_locales="de"))
        flow_id = flow_of(login_page.text)
        again = browser.http.get(f"/login?flow={flow_id}")
        assert await _flow_reads(redis_url, flow_id, again) == 1
        consent = await browser.submit_login(login_page, "ada@example.com", PASSWORD)
        assert is_consent_page(consent)
        shown = browser.http.get(f"/consent?flow={flow_id}")
        assert await _flow_reads(redis_url, flow_id, shown) == 1
        assert _lang(await browser.http.get(f"/consent?flow={flow_id}")) == "de"


async def test_without_ui_locales_the_profile_then_the_browser_decide(server: Server) -> None:
    async with Browser.open(server.url) as browser:
        french = await browser.http.get("/login", headers={"Accept-Language": "fr-CA, en;q=0.5"})
        assert _lang(french) == "fr"
        assert "Mot de passe oublié ?" in french.text
        other = await browser.http.get("/login", headers={"Accept-Language": "ja, ko"})
        assert _lang(other) == "en"
        assert "Forgot password?" in other.text

        await register(browser.http)
        tokens = await login(browser.http)
        saved = await browser.http.patch(
            "/v1/auth/me", json={"locale": "es-MX"}, headers=bearer(tokens)
        )
        assert saved.status_code == 200, saved.text
        browser.http.headers["Accept-Language"] = "de"
        await sign_in_for(browser, "ada@example.com", PASSWORD, "/account")
        account = await browser.http.get("/account")
        assert _lang(account) == "es"
        assert "Tu cuenta" in account.text


async def test_discovery_lists_the_installed_languages(client: httpx.AsyncClient) -> None:
    document = (await client.get("/.well-known/openid-configuration")).json()
    assert document["ui_locales_supported"] == ["de", "en", "es", "fr"]


async def test_a_german_users_verification_mail_is_german(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        await mailbox.wait_for("ada@example.com", "Verify your email address")
        tokens = await login(http)
        saved = await http.patch("/v1/auth/me", json={"locale": "de"}, headers=bearer(tokens))
        assert saved.status_code == 200, saved.text
        mailbox.clear()
        resent = await http.post("/v1/auth/email/resend", headers=bearer(tokens))
        assert resent.status_code == 202, resent.text
        mail = await mailbox.wait_for("ada@example.com", "Bestätigen Sie Ihre E-Mail-Adresse")
    assert mail["Content-Language"] == "de"
    assert "Hallo Ada," in text_part(mail)
    assert "Der Link funktioniert einmal und läuft in 24 Stunden ab." in text_part(mail)
    assert '<html lang="de">' in html_part(mail)
    assert "Meine E-Mail-Adresse bestätigen" in html_part(mail)


async def test_registering_on_a_french_page_mails_in_french(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        response = await http.post(
            "/v1/auth/register",
            json={"email": "ada@example.com", "password": PASSWORD, "name": "Ada"},
            headers={"Accept-Language": "fr-FR,fr;q=0.9"},
        )
        assert response.status_code == 201, response.text
    mail = await mailbox.wait_for("ada@example.com", "Vérifiez votre adresse e-mail")
    assert "Bonjour Ada," in text_part(mail)


async def test_a_refused_registration_explains_itself_in_spanish(server: Server) -> None:
    async with Browser.open(server.url) as browser:
        browser.http.headers["Accept-Language"] = "es-ES"
        page = await browser.http.get("/register")
        refused = await browser.http.post(
            "/register",
            data={"csrf": csrf_of(page.text), "email": "ada@example.com", "password": "short"},
        )
        assert refused.status_code in (400, 422), refused.status_code
        assert _lang(refused) == "es"
        assert "Algunos campos necesitan tu atención." in refused.text
        assert "Contraseña debe tener al menos 10 caracteres" in refused.text


async def test_signing_up_inside_a_german_request_mails_in_german(
    mail_server: Server, mailbox: Mailbox
) -> None:
    rp = await register_client()
    async with Browser.open(mail_server.url) as browser:
        login = await browser.authorize(auth_params(rp, ui_locales="de"))
        register_link = re.search(r'href="(/register\?flow=[^"]+)"', login.text)
        assert register_link, login.text[:500]
        form = await browser.http.get(register_link.group(1).replace("&amp;", "&"))
        assert _lang(form) == "de"
        fields = {"csrf": csrf_of(form.text), "flow": flow_of(form.text)}
        done = await browser.http.post(
            "/register",
            data={**fields, "email": "ada@example.com", "name": "Ada", "password": PASSWORD},
        )
        assert done.status_code == 200, done.text[:500]
        assert "Sehen Sie in Ihr Postfach" in done.text
    mail = await mailbox.wait_for("ada@example.com", "Bestätigen Sie Ihre E-Mail-Adresse")
    assert "Hallo Ada," in text_part(mail)


async def test_the_passkeys_page_and_the_passkey_sign_in_speak_spanish(server: Server) -> None:
    async with Browser.open(server.url) as browser:
        browser.http.headers["Accept-Language"] = "es"
        login_page = await browser.http.get("/login")
        assert "Iniciar sesión con una llave de acceso" in login_page.text  # the button's label
        # The script's only sentence comes from the page, in its language.
        assert 'data-failed="No se usó la llave de acceso.' in login_page.text
        await register(browser.http)
        await sign_in_for(browser, "ada@example.com", PASSWORD, "/account/passkeys")
        page = await browser.http.get("/account/passkeys")
        assert _lang(page) == "es"
        assert "Todavía no tienes ninguna llave de acceso." in page.text
        assert "Añadir una llave de acceso" in page.text
