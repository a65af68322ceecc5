"""The done-when journeys in Chromium: a branded configuration (name, logo file, colour, a
replaced template) shows on the sign-in and consent pages and in the mail, passing axe-core;
`ui_locales=de` gives a German sign-in page with `lang="de"`."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser

from tests.branding import brand_settings
from tests.e2e.relying_party import sign_in_on_page
from tests.e2e.test_accessibility import WCAG_AA
from tests.integration.conftest import Mailbox, MailServerFactory, html_part
from tests.oidc import auth_params, register_client
from tests.support import PASSWORD, register


async def test_the_brand_shows_in_chromium_on_sign_in_consent_and_mail(
    mail_server_with: MailServerFactory,
    mailbox: Mailbox,
    chromium: Browser,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = await mail_server_with(**brand_settings(tmp_path_factory))
    rp = await register_client(name="Acme Payroll")
    context = await chromium.new_context(base_url=server.url)
    page = await context.new_page()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            await register(http)
        mail = await mailbox.wait_for("ada@example.com", "Verify your email address")
        assert "Acme ID" in html_part(mail)

        await page.goto("/authorize?" + urlencode(auth_params(rp)))
        axe = Axe()
        for step in ("login", "consent"):
            assert await page.inner_text(".brand-name") == "Acme ID"
            assert await page.title() in ("Sign in · Acme ID", "Allow access · Acme ID")
            # The logo file loaded under the page's CSP.
            width = await page.eval_on_selector(".brand-logo", "img => img.naturalWidth")
            assert width == 32
            button = "#sign-in" if step == "login" else "#allow"
            # Reduced motion: no colour transition between the schemes while axe measures.
            await page.emulate_media(color_scheme="light", reduced_motion="reduce")
            color = await page.eval_on_selector(button, "b => getComputedStyle(b).backgroundColor")
            assert color == "rgb(11, 92, 173)"  # PROVIDER_BRAND_PRIMARY_COLOR
            await page.emulate_media(color_scheme="dark", reduced_motion="reduce")
            color = await page.eval_on_selector(button, "b => getComputedStyle(b).backgroundColor")
            assert color == "rgb(84, 141, 198)"  # derived from it for the dark scheme
            for scheme in ("light", "dark"):
                await page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
                results = await axe.run(page, options=WCAG_AA)
                assert results.response["violations"] == [], (step, scheme, results.response)
            if step == "login":
                await sign_in_on_page(page, "ada@example.com", PASSWORD)
                await page.wait_for_selector("#allow")
                assert "Acme Payroll" in await page.inner_text("h1")

        await page.goto("/")
        assert await page.inner_text("#acme-landing") == "Welcome to Acme"
    finally:
        await context.close()


async def test_ui_locales_de_gives_a_german_sign_in_page(server, chromium: Browser) -> None:  # type: ignore[no-untyped-def]
    rp = await register_client()
    context = await chromium.new_context(base_url=server.url, locale="en-US")
    page = await context.new_page()
    try:
        await page.goto("/authorize?" + urlencode(auth_params(rp, ui_locales="de")))
        assert await page.get_attribute("html", "lang") == "de"
        assert await page.inner_text("h1") == "Anmelden"
        assert await page.inner_text("label[for=password]") == "Passwort"
        assert await page.inner_text("#sign-in") == "Anmelden"
        assert await page.title() == "Anmelden · Provider"
    finally:
        await context.close()
