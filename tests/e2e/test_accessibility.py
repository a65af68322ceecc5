"""WCAG 2.2 AA on every hosted page, checked by axe-core in headless Chromium: light and dark,
in English and German, with the error states of the forms. One server, one browser, every page
visited in a loop; a violation is reported with its page, scheme and language."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from provider.storage.models import User
from tests.e2e.relying_party import sign_in_on_page
from tests.oidc import RegisteredClient, auth_params, register_client
from tests.support import PASSWORD, Server, bearer, register
from tests.support import login as api_login
from tests.totp import enrol_totp

# axe-core's rules for WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
ANONYMOUS_PAGES = [
    "/",
    "/login",
    "/register",
    "/password/forgot",
    "/password/reset?token=" + "x" * 43,
    "/email/verify?token=" + "x" * 43,
    "/account/restore",
    "/email/change/confirm?token=" + "x" * 43,
    "/email/change/cancel?token=" + "x" * 43,
    "/no/such/page",
]
ACCOUNT_PAGES = [
    "/account",
    "/account/profile",
    "/account/devices",
    "/account/apps",
    "/account/passkeys",
    "/account/mfa",
    "/account/password",
    "/account/email",
    "/account/delete",
    "/logout",
]
ADMIN_PAGES = [
    "/admin/dashboard",
    "/admin",
    "/admin/users/new",
    "/admin/clients",
    "/admin/clients/new",
    "/admin/registration-tokens",
    "/admin/resources",
    "/admin/keys",
    "/admin/audit",
    "/admin/idps",
    "/admin/app-roles",
]
API = "https://api.example.com/orders"


class Checker:
    def __init__(self, lang: str) -> None:
        self.axe = Axe()
        self.lang = lang
        self.problems: list[str] = []
        self.checked: list[str] = []

    async def check(self, page: Page, label: str) -> None:
        assert await page.get_attribute("html", "lang") == self.lang, label
        for scheme in ("light", "dark"):
            await page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
            results = await self.axe.run(page, options=WCAG_AA)
            for violation in results.response["violations"]:
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.problems.append(
                    f"{label} [{self.lang}, {scheme}]: {violation['id']}: {targets}"
                )
            self.checked.append(f"{label} {scheme}")

    async def visit(self, page: Page, path: str) -> None:
        await page.goto(path)
        await self.check(page, path)


async def _focused(page: Page) -> str:
    focused: str = await page.evaluate("document.activeElement.id")
    return focused


async def _has_focus(page: Page, element_id: str) -> None:
    """`autofocus` applies once the page has loaded: wait for it, then it must be there.

    Playwright's own matcher, not `wait_for_function`: the pages' CSP forbids evaluating a
    string in the page."""
    await expect(page.locator(f"#{element_id}")).to_be_focused(timeout=5000)


async def _staff_and_data(client: httpx.AsyncClient) -> tuple[RegisteredClient, dict[str, Any]]:
    admin = await register(client, "root@example.com")
    await User.filter(id=admin["id"]).update(role="admin")
    mfa_user = await register(client, "mfa@example.com")
    await enrol_totp(client, await api_login(client, "mfa@example.com"))
    # Rows for the console's tables: an API (whose page is visited too) and an initial access
    # token.
    staff = bearer(await api_login(client, "root@example.com"))
    api = await client.post(
        "/v1/admin/resources",
        json={"identifier": API, "name": "Orders", "scopes": ["orders.read"]},
        headers=staff,
    )
    assert api.status_code == 201, api.text
    token = await client.post(
        "/v1/admin/registration-tokens", json={"note": "partner"}, headers=staff
    )
    assert token.status_code == 201, token.text
    mfa_user["resource_id"] = api.json()["resource"]["id"]
    return await register_client(name="Example App"), mfa_user


async def _walk(
    chromium: Browser, server: Server, lang: str, rp: RegisteredClient, other: dict[str, Any]
) -> Checker:
    checker = Checker(lang)
    context = await chromium.new_context(
        base_url=server.url,
        locale=lang,
        extra_http_headers={"Accept-Language": lang},
        viewport={"width": 1280, "height": 900},
    )
    page = await context.new_page()
    try:
        for path in ANONYMOUS_PAGES:
            await checker.visit(page, path)

        # Keyboard order on the sign-in page: the fields and the button before the side links.
        await page.goto("/login")
        await _has_focus(page, "identifier")
        order = []
        for _ in range(3):
            await page.keyboard.press("Tab")
            order.append(await _focused(page))
        assert order == ["password", "sign-in", "forgot-link"]

        # The forms' error states: the alert, the invalid fields and their descriptions; the
        # first invalid field has the focus (autofocus, no script needed).
        await sign_in_on_page(page, "root@example.com", "not the password")
        await page.wait_for_selector("[role=alert]")
        await _has_focus(page, "password")
        await checker.check(page, "/login (refused)")
        await page.goto("/register")
        await page.fill("#email", "new@example.com")
        await page.fill("#password", "short")
        await page.evaluate("document.querySelector('#password').removeAttribute('minlength')")
        await page.click("#register")
        await page.wait_for_selector("[role=alert]")
        await _has_focus(page, "password")
        await checker.check(page, "/register (refused)")

        authorize = "/authorize?" + urlencode(auth_params(rp))
        # The second factor, in the flow of an authorization request.
        await page.goto(authorize)
        await sign_in_on_page(page, "mfa@example.com", PASSWORD)
        await page.wait_for_selector("#code")
        await checker.check(page, "/login/mfa")
        await context.clear_cookies()

        # Consent, then the account and console pages of a signed-in administrator.
        await page.goto(authorize)
        await sign_in_on_page(page, "root@example.com", PASSWORD)
        await page.wait_for_selector("#allow")
        await checker.check(page, "/consent")
        for path in [
            *ACCOUNT_PAGES,
            *ADMIN_PAGES,
            f"/admin/users/{other['id']}",
            f"/admin/users/{other['id']}/app-access",
            f"/admin/clients/{rp.client_id}",
            f"/admin/resources/{other['resource_id']}",
        ]:
            await checker.visit(page, path)
        # A refused password change: the first invalid field has the focus.
        await page.goto("/account/password")
        await page.fill("#current_password", PASSWORD)
        await page.fill("#new_password", "short")
        await page.evaluate("document.querySelector('#new_password').removeAttribute('minlength')")
        await page.click("#change-password")
        await page.wait_for_selector("[aria-invalid=true]")
        await _has_focus(page, "new_password")
        await checker.check(page, "/account/password (refused)")
        # Setting up a second factor: the QR code and the secret.
        await page.goto("/account/mfa")
        if await page.query_selector("#qr") is None:  # the first language's walk started it
            await page.click("#start")
        await page.wait_for_selector("#qr")
        await checker.check(page, "/account/mfa (enrolment)")
    finally:
        await context.close()
    return checker


async def test_every_page_passes_axe_in_light_and_dark_in_english_and_german(
    server: Server, client: httpx.AsyncClient, chromium: Browser
) -> None:
    rp, other = await _staff_and_data(client)
    problems: list[str] = []
    for lang in ("en", "de"):
        checker = await _walk(chromium, server, lang, rp, other)
        assert len(checker.checked) >= 2 * 30
        problems += checker.problems
    assert not problems, "axe-core violations:\n" + "\n".join(problems)
