"""The hosted sign-in page and POST /v1/auth/sessions are one `sign_in` use case: whichever way
the attempts arrive, they count toward one lockout and fill the same rate-limit windows."""

from __future__ import annotations

import httpx

from provider.storage.models import AuditEvent, Session, User
from tests.oidc import Browser, auth_params, is_login_page, register_client
from tests.support import PASSWORD, Server, assert_error, register

LOGIN = "/v1/auth/sessions"
EMAIL = "ada@example.com"


async def _api_login(http: httpx.AsyncClient, identifier: str, password: str) -> httpx.Response:
    return await http.post(LOGIN, json={"identifier": identifier, "password": password})


async def test_page_and_api_failures_lock_the_account_together(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Four wrong passwords on the page and a fifth on the API make the five of the lockout."""
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        for attempt in range(4):
            response = await browser.submit_login(page, EMAIL, f"wrong password {attempt}")
            assert response.status_code == 401
            assert is_login_page(response)
        assert (await User.get(id=user["id"])).locked_until is None
        assert_error(
            await _api_login(client, EMAIL, "wrong password 4"), 401, "invalid_credentials"
        )
        assert (await User.get(id=user["id"])).locked_until is not None
        # Locked for both: the right password is refused on the API and on the page.
        assert_error(await _api_login(client, EMAIL, PASSWORD), 423, "account_locked")
        response = await browser.submit_login(page, EMAIL, PASSWORD)
        assert response.status_code == 423
        assert is_login_page(response)
    failures = await AuditEvent.filter(event="user.login_failed", user_id=user["id"]).count()
    assert failures == 5
    locked = await AuditEvent.filter(event="user.locked", user_id=user["id"]).get()
    assert locked.details["failures"] == 5
    assert await Session.all().count() == 0
    assert await AuditEvent.filter(event="user.login").count() == 0


async def test_page_and_api_fill_one_window_per_address(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(ratelimit_login_per_ip="4", tag="shared-login-ip")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        first = await _api_login(http, EMAIL, PASSWORD)
        assert first.status_code == 200
        assert first.headers["x-ratelimit-remaining"] == "3"
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        for attempt in range(2):
            response = await browser.submit_login(page, f"nobody{attempt}@example.com", "x" * 12)
            assert response.status_code == 401
        # One request left in the window: the API spends it, after which both pages wait.
        second = await _api_login(browser.http, EMAIL, PASSWORD)
        assert second.status_code == 200
        assert second.headers["x-ratelimit-remaining"] == "0"
        refused = await browser.submit_login(page, EMAIL, PASSWORD)
        assert refused.status_code == 429
        assert refused.headers["x-ratelimit-limit"] == "4"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert_error(await _api_login(browser.http, EMAIL, PASSWORD), 429, "rate_limited")
    assert await AuditEvent.filter(event="user.login").count() == 2


async def test_page_and_api_fill_one_window_per_account(server_with) -> None:  # type: ignore[no-untyped-def]
    """The account's window counts every spelling, on either side."""
    server: Server = await server_with(ratelimit_login_per_account="3", tag="shared-login-account")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        await register(http, email="grace@example.com")
        assert (await _api_login(http, EMAIL, PASSWORD)).status_code == 200
        rp = await register_client()
        async with Browser.open(server.url) as browser:
            page = await browser.authorize(auth_params(rp))
            response = await browser.submit_login(page, "ADA@example.com", "wrong password")
            assert response.status_code == 401
            assert (await _api_login(http, " ada@example.com", PASSWORD)).status_code == 200
            refused = await browser.submit_login(page, "Ada@Example.com", PASSWORD)
            assert refused.status_code == 429
            assert refused.headers["x-ratelimit-limit"] == "3"
            assert_error(await _api_login(http, EMAIL, PASSWORD), 429, "rate_limited")
            # Another account from the same address is not affected, on either side.
            assert (await _api_login(http, "grace@example.com", PASSWORD)).status_code == 200
            other = await browser.submit_login(page, "grace@example.com", PASSWORD)
            assert other.status_code == 200
            assert not is_login_page(other)
