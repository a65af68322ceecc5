"""Self-service in a real browser (headless Chromium), mail through aiosmtpd: edit the profile,
change the email through the two mails, sign out another device, and remove a connected app
after which the app's refresh token fails."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from provider.oauth.clients import ClientSpec, create_client
from provider.storage.models import Session, User
from tests.mail import TEST_SECRET_KEY, Mailbox, links
from tests.oidc import REDIRECT_URI, Browser, RegisteredClient, refresh, sign_in_for_tokens
from tests.support import PASSWORD, Server, login, register

EMAIL = "ada@example.com"
NEW_EMAIL = "countess@example.com"


async def _client_of_mail_server() -> RegisteredClient:
    """A client whose secret is hashed with the mail server's secret key."""
    spec = ClientSpec(
        name="Notes",
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[],
        grant_types=["authorization_code", "refresh_token"],
        scopes=["openid", "profile", "email", "offline_access"],
    )
    client, secret = await create_client(spec, TEST_SECRET_KEY.encode(), "http://127.0.0.1")
    return RegisteredClient(client.id, secret)


def _link(message: object, server: Server, path: str) -> str:
    found = [link for link in links(message) if link.startswith(f"{server.url}{path}?")]  # type: ignore[arg-type]
    assert len(found) == 1, found
    return found[0]


async def _sign_in(page: Page, server: Server, identifier: str) -> None:
    await page.goto(f"{server.url}/login?next=/account")
    await page.fill("input[name=identifier]", identifier)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(f"{server.url}/account")


async def test_profile_email_devices_and_apps_in_the_browser(
    mail_server: Server, mailbox: Mailbox, page: Page
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        user = await register(http)
        other_device = await login(http, **{"User-Agent": "curl/8.5.0"})
        rp = await _client_of_mail_server()
        async with Browser.open(mail_server.url) as rp_browser:
            rp_tokens, _ = await sign_in_for_tokens(
                rp_browser, rp, EMAIL, PASSWORD, scope="openid profile offline_access"
            )
    await _sign_in(page, mail_server, EMAIL)

    # The profile.
    await page.click("#edit-profile")
    await page.wait_for_url(f"{mail_server.url}/account/profile")
    await page.fill("#phone_number", "020 7946")
    await page.fill("#zoneinfo", "Europe/London")
    await page.click("#save-profile")
    errors = await page.wait_for_selector("#phone_number-error")
    assert "E.164" in await errors.inner_text()
    await page.fill("#phone_number", "+44 20 7946 0958")
    await page.fill("#given_name", "Ada")
    await page.fill("#family_name", "Lovelace")
    await page.fill("#locale", "en-gb")
    await page.click("#save-profile")
    await page.wait_for_selector("text=Your profile is saved.")
    stored = await User.get(id=user["id"])
    assert (stored.phone_number, stored.locale, stored.zoneinfo, stored.family_name) == (
        "+442079460958",
        "en-GB",
        "Europe/London",
        "Lovelace",
    )

    # The email address, through the two mails.
    await page.goto(f"{mail_server.url}/account/email")
    await page.fill("#new_email", NEW_EMAIL)
    await page.fill("#current_password", PASSWORD)
    await page.click("#change-email")
    await page.wait_for_selector("text=Check your new address")
    notice = await mailbox.wait_for(EMAIL, "being changed")
    _link(notice, mail_server, "/email/change/cancel")
    confirm = _link(
        await mailbox.wait_for(NEW_EMAIL, "Confirm"), mail_server, "/email/change/confirm"
    )
    assert (await User.get(id=user["id"])).email == EMAIL
    await page.goto(confirm)
    assert (await User.get(id=user["id"])).email == EMAIL  # opening it spent nothing
    await page.click("#confirm")
    await page.wait_for_selector(f"text=Your address is now {NEW_EMAIL}.")
    assert (await User.get(id=user["id"])).email == NEW_EMAIL
    await page.goto(f"{mail_server.url}/account")
    assert NEW_EMAIL in await page.inner_text("main")

    # Another device.
    await page.click("#devices-link")
    await page.wait_for_url(f"{mail_server.url}/account/devices")
    curl = page.locator(f"#device-{other_device['session']['id']}")
    assert "curl" in await curl.inner_text()
    await curl.locator("button.sign-out-device").click()
    await page.wait_for_selector("text=That device is signed out.")
    assert await page.locator(f"#device-{other_device['session']['id']}").count() == 0
    ended = await Session.get(id=other_device["session"]["id"])
    assert ended.revoked_at is not None

    # A connected app.
    await page.goto(f"{mail_server.url}/account/apps")
    app = page.locator(f"#app-{rp.client_id}")
    assert "Notes" in await app.inner_text()
    await app.locator("button.remove-access").click()
    await page.wait_for_selector("text=The app's access is removed.")
    assert await page.locator("#no-apps").count() == 1
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        refused = await refresh(http, rp, rp_tokens["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
