"""Passkeys in a real browser: headless Chromium with a virtual authenticator (the DevTools
protocol's WebAuthn domain: ctap2, internal transport, resident keys, user verification).

WebAuthn refuses an IP address as the RP ID, so the provider runs with its issuer on
http://localhost:<port> (localhost is a secure context). A passkey is enrolled on the account
page; after signing out, an authorization request is completed with the passkey alone (the
button, then the username field's autofill), and the relying party's ID token says amr
hwk|swk, user, mfa with the MFA acr; then a client that requires two factors accepts a password
followed by the passkey.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page

from provider.storage.models import AuditEvent, Client, Passkey
from tests.e2e.relying_party import Catcher, sign_in_on_page
from tests.hosted import id_token_claims
from tests.oidc import RegisteredClient, auth_params, query_of, register_client
from tests.support import PASSWORD, Server, free_port, register, start_server

EMAIL = "ada@example.com"
ACR_MFA = "urn:provider:acr:mfa"
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture
async def localhost_server(
    base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, clean: None
) -> AsyncIterator[tuple[Server, str]]:
    """A provider of its own whose issuer is http://localhost:<port>, and that URL."""
    port = free_port()
    url = f"http://localhost:{port}"
    env = {**base_env, "PROVIDER_ISSUER": url}
    server = await asyncio.to_thread(start_server, env, tmp_path_factory.mktemp("server"), port)
    yield server, url
    server.stop()


@pytest.fixture
async def context(chromium: Browser) -> AsyncIterator[BrowserContext]:
    context = await chromium.new_context(viewport={"width": 390, "height": 844})
    yield context
    await context.close()


# A browser without autofill of passkeys, while localStorage says so: the button path and the
# password path are then not overtaken by the conditional request, which the virtual
# authenticator answers at once.
WITHOUT_AUTOFILL = """
if (localStorage.getItem("no-autofill") === "1" && window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = async () => false;
}
"""


async def _with_authenticator(context: BrowserContext) -> Page:
    """A page whose browser has a platform authenticator with user verification."""
    page = await context.new_page()
    await page.add_init_script(WITHOUT_AUTOFILL)
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return page


async def _authorize(page: Page, url: str, rp: RegisteredClient) -> dict[str, str]:
    params = auth_params(rp)
    await page.goto(f"{url}/authorize?" + httpx.QueryParams(params).__str__())
    return params


async def _back_at_client(page: Page, catcher: Catcher, *, consent: bool = True) -> dict[str, str]:
    """Allow on the consent page (unless the consent is remembered), then the client's query."""
    if consent:
        await page.wait_for_selector("#allow")
        await page.click("#allow")
    return query_of(await catcher.next_url())


async def _claims(url: str, rp: RegisteredClient, code: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return await id_token_claims(http, rp, code)


async def _autofill(page: Page, on: bool) -> None:
    await page.evaluate(f"localStorage.setItem('no-autofill', '{0 if on else 1}')")


async def _sign_out(page: Page, url: str) -> None:
    await page.goto(f"{url}/logout")
    await page.click("#logout")
    await page.wait_for_load_state()


async def test_enrol_a_passkey_then_sign_in_with_it_alone(
    localhost_server: tuple[Server, str], context: BrowserContext, tmp_path: Path
) -> None:
    server, url = localhost_server
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        user = await register(http)
    page = await _with_authenticator(context)

    # Enrol on the account page, after signing in with the password.
    await page.goto(f"{url}/login?next=/account/passkeys")
    await sign_in_on_page(page, EMAIL, PASSWORD)
    await page.wait_for_url(f"{url}/account/passkeys")
    await page.fill("#passkey-name", "Laptop")
    await page.click("#passkey-button")
    await page.wait_for_url(f"{url}/account/passkeys?done=added")
    assert "Laptop" in await page.inner_text("#passkeys")
    passkey = await Passkey.get(user_id=user["id"])
    assert passkey.name == "Laptop"
    await _sign_out(page, url)
    await _autofill(page, on=False)

    # An authorization request, answered with the passkey's button alone: no password typed.
    rp = await register_client(issuer=url)
    catcher = Catcher()
    await page.route("http://127.0.0.1:9/**", catcher)
    params = await _authorize(page, url, rp)
    await page.wait_for_selector("#passkey-button:not([hidden])")
    assert await page.get_attribute("#identifier", "autocomplete") == "username webauthn"
    await page.click("#passkey-button")
    returned = await _back_at_client(page, catcher)
    assert returned["state"] == params["state"]
    claims = await _claims(url, rp, returned["code"])
    assert claims["sub"] == user["id"]
    assert claims["amr"][0] in ("hwk", "swk")
    assert claims["amr"][1:] == ["user", "mfa"]
    assert claims["acr"] == ACR_MFA
    await _sign_out(page, url)

    # The conditional UI: the browser offers the passkey in the username field's autofill (the
    # virtual authenticator picks it at once, without a click on the button).
    await _autofill(page, on=True)
    await _authorize(page, url, rp)
    returned = await _back_at_client(page, catcher, consent=False)
    claims = await _claims(url, rp, returned["code"])
    assert claims["acr"] == ACR_MFA
    logins = await AuditEvent.filter(event="user.login", user_id=user["id"]).order_by("id")
    assert [row.details["method"] for row in logins] == ["password", "passkey", "passkey"]
    await _sign_out(page, url)

    # A client that requires two factors: the password, then the passkey as the second step.
    await _autofill(page, on=False)
    strict = await register_client(issuer=url, name="Strict App")
    await Client.filter(id=strict.client_id).update(require_mfa=True)
    await page.unroute("http://127.0.0.1:9/**")
    await page.route("http://127.0.0.1:9/**", catcher)
    await _authorize(page, url, strict)
    await sign_in_on_page(page, EMAIL, PASSWORD)
    await page.wait_for_url(f"{url}/login/mfa?flow=*")
    await page.click("#passkey-button")
    returned = await _back_at_client(page, catcher)
    claims = await _claims(url, strict, returned["code"])
    assert claims["amr"][0] == "pwd"
    assert claims["amr"][-1] == "mfa"
    assert claims["acr"] == ACR_MFA
    assert server.process.poll() is None
