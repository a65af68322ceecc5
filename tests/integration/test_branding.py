"""The organisation's brand on the pages and mails: name, logo, colours, links, a replaced
template, and the client's own name; the CSP stays closed unless a logo URL opens img-src."""

from __future__ import annotations

import httpx
import pytest

from tests.admin_support import admin
from tests.branding import LOGO_SVG, brand_settings
from tests.integration.conftest import Mailbox, MailServerFactory, html_part, text_part
from tests.oidc import (
    REDIRECT_URI,
    Browser,
    RegisteredClient,
    auth_params,
    is_consent_page,
    register_client,
)
from tests.support import PASSWORD, Server, assert_error, register

NEW_CLIENT = {
    "name": "Payroll",
    "redirect_uris": [REDIRECT_URI],
    "scopes": ["openid", "profile", "email"],
}


async def test_a_branded_configuration_shows_on_login_consent_and_mail(
    mail_server_with: MailServerFactory,
    mailbox: Mailbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = await mail_server_with(**brand_settings(tmp_path_factory))
    rp = await register_client(name="Acme Payroll")
    async with Browser.open(server.url) as browser:
        await register(browser.http)
        await mailbox.wait_for("ada@example.com")
        login = await browser.authorize(auth_params(rp))
        for page in (
            login,
            consent := await browser.submit_login(login, "ada@example.com", PASSWORD),
        ):
            assert '<span class="brand-name">Acme ID</span>' in page.text
            assert f'<img class="brand-logo" src="{server.url}/branding/logo"' in page.text
            assert '<link rel="stylesheet" href="/branding/theme.css">' in page.text
            assert 'href="https://acme.example/terms"' in page.text
            assert 'href="https://acme.example/privacy"' in page.text
            assert 'href="https://help.acme.example/"' in page.text
            assert "· Acme ID</title>" in page.text
            # A logo file is served from this origin: img-src stays 'self'.
            assert "img-src 'self' data:;" in page.headers["content-security-policy"]
        assert "<strong>Acme Payroll</strong>" in login.text
        assert is_consent_page(consent)
        assert "<strong>Acme Payroll</strong> wants to access your account" in consent.text

        logo = await browser.http.get("/branding/logo")
        assert logo.status_code == 200
        assert logo.headers["content-type"] == "image/svg+xml"
        assert logo.text == LOGO_SVG
        assert "sandbox" in logo.headers["content-security-policy"]
        theme = await browser.http.get("/branding/theme.css")
        assert theme.headers["content-type"].startswith("text/css")
        assert "--primary: #0b5cad" in theme.text
        # The dark scheme's primary, derived from it: readable on the dark card.
        assert "(prefers-color-scheme: dark) { :root { --primary: #548dc6" in theme.text
        assert "--accent: #f5a623" in theme.text

        # The override folder replaces the built-in landing page; the others stay built in.
        landing = await browser.http.get("/", headers={"Accept": "text/html"})
        assert '<h1 id="acme-landing">Welcome to Acme</h1>' in landing.text
        assert '<span class="brand-name">Acme ID</span>' in landing.text

    mail = await mailbox.wait_for("ada@example.com", "Verify your email address")
    assert "Acme ID" in text_part(mail)
    assert f'<img src="{server.url}/branding/logo"' in html_part(mail)
    assert "background:#0b5cad" in html_part(mail)
    assert 'href="https://help.acme.example/"' in html_part(mail)


async def test_a_logo_url_opens_img_src_to_its_origin_only(server_with) -> None:  # type: ignore[no-untyped-def]
    server = await server_with(brand_logo="https://cdn.acme.example/logo.png")
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/login")
        assert '<img class="brand-logo" src="https://cdn.acme.example/logo.png"' in page.text
        policy = page.headers["content-security-policy"]
        assert "img-src 'self' data: https://cdn.acme.example;" in policy
        assert (await http.get("/branding/logo")).status_code == 404
        # No colour configured: no theme stylesheet on the page.
        assert "/branding/theme.css" not in page.text


async def test_without_a_brand_the_pages_keep_the_defaults(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert '<span class="brand-name">Provider</span>' in page.text
    assert "brand-logo" not in page.text
    assert '<footer class="legal">' not in page.text
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]


async def test_a_clients_logo_shows_beside_its_name_and_only_its_origin_is_allowed(
    server: Server,
) -> None:
    async with Browser.open(server.url) as browser:
        headers = await admin(browser.http)
        refused = await browser.http.post(
            "/v1/admin/clients",
            json={**NEW_CLIENT, "logo_uri": "http://payroll.example/logo.png"},
            headers=headers,
        )
        assert_error(refused, 400, "invalid_client_metadata")
        created = await browser.http.post(
            "/v1/admin/clients",
            json={**NEW_CLIENT, "logo_uri": "https://static.payroll.example/logo.png"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        view = created.json()["client"]
        assert view["logo_uri"] == "https://static.payroll.example/logo.png"
        rp = RegisteredClient(view["client_id"], created.json()["client_secret"], REDIRECT_URI)

        await register(browser.http)
        login = await browser.authorize(auth_params(rp))
        consent = await browser.submit_login(login, "ada@example.com", PASSWORD)
        for page in (login, consent):
            assert (
                '<img class="client-logo" src="https://static.payroll.example/logo.png"'
                in page.text
            )
            policy = page.headers["content-security-policy"]
            assert "img-src 'self' data: https://static.payroll.example;" in policy

        removed = await browser.http.patch(
            f"/v1/admin/clients/{rp.client_id}", json={"logo_uri": ""}, headers=headers
        )
        assert removed.json()["client"]["logo_uri"] is None
        again = await browser.authorize(auth_params(rp))
        assert "client-logo" not in again.text
