"""The admin console in headless Chromium at 1280 px: register a client, use it in a code flow,
rotate its secret, disable it and see the flow refused; the dashboard counts the sign-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, Page

from provider.storage.models import AuditEvent, Client
from tests.admin_support import account
from tests.e2e.relying_party import Catcher, sign_in_on_page
from tests.oidc import REDIRECT_URI, RegisteredClient, auth_params, pkce_pair, query_of, redeem_code
from tests.support import PASSWORD, Server

pytestmark = pytest.mark.e2e


@pytest.fixture
async def wide_page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    yield page
    await context.close()


async def _sign_in_admin(page: Page, server: Server, next_path: str) -> None:
    await page.goto(f"{server.url}/login?{urlencode({'next': next_path})}")
    await sign_in_on_page(page, "root@example.com", PASSWORD)
    await page.wait_for_url(f"{server.url}{next_path}")


async def _code_for(
    page: Page, server: Server, rp: RegisteredClient, catcher: Catcher
) -> tuple[str, str]:
    """The user's browser through authorize, signing in when asked: the code and its verifier."""
    verifier, challenge = pkce_pair()
    params = auth_params(rp, code_challenge=challenge, code_challenge_method="S256")
    # prompt=consent: the flow ends with a click on our page, whose redirect the catcher takes
    # (Chromium refuses a direct navigation to the catcher's port).
    await page.goto(f"{server.url}/authorize?{urlencode({**params, 'prompt': 'consent'})}")
    if await page.locator("input[name=identifier]").count():
        await sign_in_on_page(page, "ada@example.com", PASSWORD)
    await page.click("#allow")
    returned = query_of(await catcher.next_url())
    assert returned["state"] == params["state"]
    return returned["code"], verifier


async def test_a_client_registered_in_the_console_signs_in_until_it_is_disabled(
    server: Server, client: httpx.AsyncClient, wide_page: Page, page: Page
) -> None:
    await account(client, "root@example.com", "admin")
    await account(client, "ada@example.com")
    admin = wide_page

    await _sign_in_admin(admin, server, "/admin/clients")
    await admin.click("#new-client")
    await admin.wait_for_url(f"{server.url}/admin/clients/new")
    await admin.fill("#name", "Console App")
    await admin.fill("#redirect_uris", REDIRECT_URI)
    await admin.fill("#scopes", "openid profile email offline_access")
    await admin.click("#register-client")
    await admin.wait_for_selector("#client-secret")
    client_id = await admin.inner_text("#client-id")
    first_secret = await admin.inner_text("#client-secret")
    stored = await Client.get(id=client_id)
    assert stored.name == "Console App"
    assert stored.redirect_uris == [REDIRECT_URI]
    assert stored.grant_types == ["authorization_code", "refresh_token"]
    created = await AuditEvent.get(event="admin.client_created", client_id=client_id)
    assert created.details["name"] == "Console App"
    # The table fits the screen: no sideways scrolling at 1280 px.
    await admin.goto(f"{server.url}/admin/clients")
    scroll = await admin.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 1280

    catcher = Catcher()
    await page.route("http://127.0.0.1:9/**", catcher)
    rp = RegisteredClient(client_id, first_secret)
    code, verifier = await _code_for(page, server, rp, catcher)
    tokens = await redeem_code(client, rp, code, verifier=verifier)
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["id_token"]

    await admin.goto(f"{server.url}/admin/clients/{client_id}")
    await admin.fill("#grace_seconds", "0")
    await admin.click("#rotate-secret")
    await admin.wait_for_selector("#client-secret")
    second_secret = await admin.inner_text("#client-secret")
    assert second_secret != first_secret
    assert await AuditEvent.filter(event="admin.client_secret_rotated").count() == 1

    code, verifier = await _code_for(page, server, rp, catcher)
    old = await redeem_code(client, rp, code, verifier=verifier)
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_client"
    rotated = RegisteredClient(client_id, second_secret)
    fresh = await redeem_code(client, rotated, code, verifier=verifier)
    assert fresh.status_code == 200, fresh.text

    await admin.goto(f"{server.url}/admin/clients/{client_id}")
    await admin.click("#disable-client")
    await admin.wait_for_url(f"{server.url}/admin/clients/{client_id}?done=disabled")
    assert "disabled" in await admin.inner_text("#state")
    assert (await Client.get(id=client_id)).disabled
    assert await AuditEvent.filter(event="admin.client_disabled", client_id=client_id).count() == 1

    verifier, challenge = pkce_pair()
    params = auth_params(rotated, code_challenge=challenge, code_challenge_method="S256")
    refused = await page.goto(f"{server.url}/authorize?{urlencode(params)}")
    assert refused is not None
    assert refused.status == 400
    assert len(catcher.urls) == 2  # no third trip back to the client

    await admin.goto(f"{server.url}/admin/dashboard")
    today = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    logins = await AuditEvent.filter(event="user.login", created_at__gte=today).count()
    assert logins >= 2  # the admin's and the user's
    bar = admin.locator("#chart-logins rect.chart-bar").last
    assert await bar.get_attribute("data-value") == str(logins)
    assert await admin.locator("#chart-logins .chart-total").inner_text() == f"{logins} in total"
    assert int(await admin.inner_text("#live-sessions")) >= 2


async def test_console_pages_fit_1280_and_tables_scroll_inside_on_a_phone(
    server: Server, client: httpx.AsyncClient, wide_page: Page, page: Page
) -> None:
    await account(client, "root@example.com", "admin")
    await account(client, "ada@example.com")
    rp = await Client.create(
        id="wide-client",
        name="A client with a long name " * 3,
        redirect_uris=["https://a-very-long-host-name.example.com/callback/path/that/goes/on"] * 3,
        post_logout_redirect_uris=[],
        grant_types=["authorization_code", "refresh_token"],
        scopes=["openid"],
        public=True,
        token_endpoint_auth_method="none",
    )
    paths = [
        "/admin/dashboard",
        "/admin",
        "/admin/clients",
        f"/admin/clients/{rp.id}",
        "/admin/keys",
        "/admin/audit",
        "/admin/users/new",
    ]
    for browser_page, width in ((wide_page, 1280), (page, 390)):
        await _sign_in_admin(browser_page, server, "/admin")
        for path in paths:
            response = await browser_page.goto(f"{server.url}{path}")
            assert response is not None
            assert response.status == 200, path
            scroll = await browser_page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (path, width, scroll)
