"""The admin pages in headless Chromium: sign in, find a user, lock them; their login then fails."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from provider.storage.models import AuditEvent, User
from tests.admin_support import account
from tests.support import PASSWORD, Server, assert_error, login
from tests.totp import enrol_totp


async def test_admin_finds_and_locks_a_user_in_the_browser(
    server: Server, client: httpx.AsyncClient, page: Page
) -> None:
    await account(client, "root@example.com", "admin")
    bob = await account(client, "bob@example.com", name="Bob Builder")
    await account(client, "carol@example.com", name="Carol")
    await login(client, "bob@example.com")

    await page.goto(f"{server.url}/admin")
    assert page.url == f"{server.url}/login?next=%2Fadmin"
    await page.fill("input[name=identifier]", "root@example.com")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(f"{server.url}/admin")
    assert await page.title() == "Users · Provider"

    await page.fill("input[name=q]", "builder")
    await page.click("#search")
    await page.wait_for_url("**/admin?q=builder**")
    rows = page.locator("table.data tbody tr")
    assert await rows.count() == 1
    assert "bob@example.com" in await rows.first.inner_text()
    await page.click("text=bob@example.com")
    await page.wait_for_url(f"{server.url}/admin/users/{bob['id']}")
    assert await page.inner_text("#status") == "unverified"

    await page.click("#action-lock")
    await page.wait_for_url(f"{server.url}/admin/users/{bob['id']}?done=lock")
    assert await page.inner_text("#status") == "locked"
    assert "Account locked" in await page.inner_text("[role=status]")
    assert await page.locator("#action-unlock").count() == 1

    refused = await client.post(
        "/v1/auth/sessions", json={"identifier": "bob@example.com", "password": PASSWORD}
    )
    assert_error(refused, 423, "account_locked")
    assert (await User.get(id=bob["id"])).locked_until is not None
    locked = await AuditEvent.get(event="admin.user_locked")
    assert str(locked.user_id) == bob["id"]
    assert locked.details["sessions_revoked"] == 1


async def test_admin_resets_a_users_two_factor_in_the_browser(
    server: Server, client: httpx.AsyncClient, page: Page
) -> None:
    await account(client, "root@example.com", "admin")
    bob = await account(client, "bob@example.com", name="Bob Builder")
    await enrol_totp(client, await login(client, "bob@example.com"))

    await page.goto(f"{server.url}/login?next=%2Fadmin%2Fusers%2F{bob['id']}")
    await page.fill("input[name=identifier]", "root@example.com")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(f"{server.url}/admin/users/{bob['id']}")
    await page.click("#action-reset-mfa")
    await page.wait_for_url(f"{server.url}/admin/users/{bob['id']}?done=reset-mfa")
    assert "Two-factor authentication removed" in await page.inner_text("[role=status]")
    assert await page.locator("#action-reset-mfa").count() == 0

    row = await User.get(id=bob["id"])
    assert row.totp_enabled_at is None
    assert row.totp_secret is None
    reset = await AuditEvent.get(event="admin.mfa_reset")
    assert str(reset.user_id) == bob["id"]
    # The password alone signs Bob in again.
    assert "access_token" in await login(client, "bob@example.com")
