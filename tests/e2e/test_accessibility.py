"""WCAG 2.2 AA on every hosted page, checked by axe-core in headless Chromium: light and dark,
in English and German, with the error states of the forms. One server, one browser, every page
visited in a loop; a violation is reported with its page, scheme and language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from provider.accounts.email_change import CANCEL_EMAIL_CHANGE, CHANGE_EMAIL
from provider.accounts.one_time_tokens import RESET_PASSWORD, VERIFY_EMAIL
from provider.crypto.tokens import new_token, token_hash
from provider.storage.db import default_connection
from provider.storage.models import Client, User
from provider.storage.one_time_tokens import OneTimeTokens
from provider.storage.unit_of_work import utcnow
from tests.e2e.relying_party import sign_in_on_page
from tests.fake_upstream import Upstream, running_upstream
from tests.federation import add_upstream
from tests.oidc import REDIRECT_URI, auth_params, register_client
from tests.support import PASSWORD, Server, bearer, register
from tests.support import login as api_login
from tests.totp import enrol_totp, fresh_totp_code

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
    "/login/idp/no-such-provider",
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


async def _staff_and_data(client: httpx.AsyncClient, upstream: Upstream) -> dict[str, Any]:
    admin = await register(client, "root@example.com")
    await User.filter(id=admin["id"]).update(role="admin")
    mfa_user = await register(client, "mfa@example.com")
    secret, _ = await enrol_totp(client, await api_login(client, "mfa@example.com"))
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
    # Clients whose rules stop the (unverified, single-factor) administrator, one that skips
    # consent for response_mode=form_post, and one per language for the console to delete.
    verified_only = await register_client(name="Verified Only")
    await Client.filter(id=verified_only.client_id).update(require_verified_email=True)
    mfa_only = await register_client(name="MFA Only")
    await Client.filter(id=mfa_only.client_id).update(require_mfa=True)
    # The upstream's user has the address of a local account: signing in through it asks to
    # link the two with the local password.
    await add_upstream(upstream)
    upstream.user.email = "mfa@example.com"
    return {
        "rp": await register_client(name="Example App"),
        "verified_only": verified_only,
        "mfa_only": mfa_only,
        "first_party": await register_client(name="First Party", first_party=True),
        "doomed": {lang: await register_client(name=f"Old App {lang}") for lang in ("en", "de")},
        "admin_id": admin["id"],
        "mfa_user": mfa_user,
        "totp_secret": secret,
        "resource_id": api.json()["resource"]["id"],
    }


async def _mailed_links(user_id: str) -> list[str]:
    """The pages of the links the mails carry: a password reset, an address to verify, and
    both ends of a pending change of the address."""
    links = []
    change = {"old_email": "root@example.com", "new_email": "new-root@example.com"}
    for path, purpose, data in [
        ("/password/reset", RESET_PASSWORD, {}),
        ("/email/verify", VERIFY_EMAIL, {"email": "root@example.com"}),
        ("/email/change/confirm", CHANGE_EMAIL, change),
        ("/email/change/cancel", CANCEL_EMAIL_CHANGE, change),
    ]:
        token = new_token()
        await OneTimeTokens(default_connection()).save(
            token_hash(token), user_id, purpose, data=data, now=utcnow(), ttl=3600
        )
        links.append(f"{path}?token={token}")
    return links


async def _submit(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def _walk(chromium: Browser, server: Server, lang: str, data: dict[str, Any]) -> Checker:
    checker = Checker(lang)
    context = await chromium.new_context(
        base_url=server.url,
        locale=lang,
        extra_http_headers={"Accept-Language": lang},
        viewport={"width": 1280, "height": 900},
    )
    page = await context.new_page()
    try:
        await _anonymous(page, checker, data)
        await _second_factor(page, checker, data)
        await _administrator(page, checker, data)
    finally:
        await context.close()
    return checker


async def _anonymous(page: Page, checker: Checker, data: dict[str, Any]) -> None:
    for path in [*ANONYMOUS_PAGES, *await _mailed_links(data["admin_id"])]:
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

    # The notice after asking for a reset link.
    await page.goto("/password/forgot")
    await page.fill("#email", "root@example.com")
    await _submit(page, "#send")
    await checker.check(page, "/password/forgot (sent)")

    # Through the upstream provider, whose user's address is a local account's: the page that
    # asks for the local password to link them.
    await page.goto("/login/idp/fake")
    await page.wait_for_selector("#confirm-link")
    await checker.check(page, "/login/idp/link")


async def _second_factor(page: Page, checker: Checker, data: dict[str, Any]) -> None:
    """The second factor in the flow of an authorization request, then new backup codes."""
    user = data["mfa_user"]
    await page.goto("/authorize?" + urlencode(auth_params(data["rp"])))
    await sign_in_on_page(page, "mfa@example.com", PASSWORD)
    await page.wait_for_selector("#code")
    await checker.check(page, "/login/mfa")
    await page.fill("#code", await fresh_totp_code(data["totp_secret"], user["id"]))
    await _submit(page, "#verify")
    await page.goto("/account/mfa")
    await page.fill("#regenerate-password", PASSWORD)
    await page.fill("#regenerate-code", await fresh_totp_code(data["totp_secret"], user["id"]))
    await _submit(page, "#regenerate")
    await page.wait_for_selector("#backup-codes")
    await checker.check(page, "/account/mfa/backup-codes")
    await page.context.clear_cookies()


async def _administrator(page: Page, checker: Checker, data: dict[str, Any]) -> None:
    """Signed in without a flow, the client's rules, consent and form_post, the account and
    console pages, and signing out."""
    await page.goto("/login")
    await sign_in_on_page(page, "root@example.com", PASSWORD)
    await page.wait_for_selector("a[href='/account']")
    await checker.check(page, "/login (signed in)")

    await page.goto("/authorize?" + urlencode(auth_params(data["rp"])))
    await page.wait_for_selector("#allow")
    await checker.check(page, "/consent")
    await page.goto("/authorize?" + urlencode(auth_params(data["verified_only"])))
    await page.wait_for_selector("#resend")
    await checker.check(page, "/authorize (verify the address)")
    await page.goto("/authorize?" + urlencode(auth_params(data["mfa_only"])))
    await page.wait_for_selector("#enrol")
    await checker.check(page, "/authorize (second factor required)")
    # The form that posts the response to the client: the client is not there, and answers
    # 204 here so that the browser stays on the page.
    await page.route(f"{REDIRECT_URI}*", lambda route: route.fulfill(status=204))
    form_post = {**auth_params(data["first_party"]), "response_mode": "form_post"}
    async with page.expect_request(f"{REDIRECT_URI}*"):
        await page.goto("/authorize?" + urlencode(form_post), wait_until="commit")
    await checker.check(page, "/authorize (form_post)")

    doomed = data["doomed"][checker.lang]
    for path in [
        *ACCOUNT_PAGES,
        *ADMIN_PAGES,
        f"/admin/users/{data['mfa_user']['id']}",
        f"/admin/users/{data['mfa_user']['id']}/app-access",
        f"/admin/clients/{data['rp'].client_id}",
        f"/admin/resources/{data['resource_id']}",
        "/admin/idps/fake",
    ]:
        await checker.visit(page, path)
    # A client registered in the console (its secret, shown once), and one deleted.
    await page.goto("/admin/clients/new")
    await page.fill("#name", f"Console App {checker.lang}")
    await page.fill("#redirect_uris", "https://app.example.com/callback")
    await _submit(page, "#register-client")
    await page.wait_for_selector("#client-secret")
    await checker.check(page, "/admin/clients/new (registered)")
    await page.goto(f"/admin/clients/{doomed.client_id}")
    await page.fill("#confirm", doomed.client_id)
    await _submit(page, "#delete-client")
    await checker.check(page, "/admin/clients (deleted)")

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

    # Signing out: asked (the /logout page above), staying, then leaving.
    await page.goto("/logout")
    await _submit(page, "#stay")
    await checker.check(page, "/logout (stayed)")
    await page.goto("/logout")
    await _submit(page, "#logout")
    await checker.check(page, "/logout (signed out)")


@pytest.fixture
async def federating_server(server_with) -> Server:  # type: ignore[no-untyped-def]
    """The upstream provider is on the loopback interface: outbound calls there are allowed."""
    server: Server = await server_with(outbound_allow_private="true")
    return server


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with running_upstream() as running:
        yield running


async def test_every_page_passes_axe_in_light_and_dark_in_english_and_german(
    federating_server: Server, upstream: Upstream, chromium: Browser
) -> None:
    async with httpx.AsyncClient(base_url=federating_server.url, timeout=30) as client:
        data = await _staff_and_data(client, upstream)
    problems: list[str] = []
    for lang in ("en", "de"):
        checker = await _walk(chromium, federating_server, lang, data)
        assert len(checker.checked) >= 2 * 58
        problems += checker.problems
    assert not problems, "axe-core violations:\n" + "\n".join(problems)
