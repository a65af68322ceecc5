"""The browser's session cookie changes on every successful authentication of the same user:
a re-login while signed in, a step-up to the second factor. The session row is kept (its id is
the `sid` of the tokens issued from it); the old cookie stops working at once."""

from __future__ import annotations

import httpx

from provider.crypto.tokens import token_hash
from provider.http.cookies import SESSION_COOKIE
from provider.storage.models import Session
from tests.hosted import back_at_client, is_mfa_page, post_form, sign_in_for
from tests.oidc import Browser, auth_params, register_client
from tests.support import PASSWORD, Server, register
from tests.support import login as api_login
from tests.totp import enrol_totp, fresh_totp_code

EMAIL = "ada@example.com"
ACR_MFA = "urn:provider:acr:mfa"


def _cookie(browser: Browser) -> str:
    value = browser.http.cookies.get(SESSION_COOKIE)
    assert value, browser.http.cookies
    return value


async def _signed_in_with(server: Server, cookie: str) -> bool:
    """Whether /account, asked with only this session cookie, shows the account."""
    async with httpx.AsyncClient(base_url=server.url, cookies={SESSION_COOKIE: cookie}) as http:
        response = await http.get("/account")
    assert response.status_code in (200, 303), response.text[:400]
    return response.status_code == 200


async def _browser_sessions(user_id: str) -> list[Session]:
    return await Session.filter(user_id=user_id, cookie_hash__isnull=False)


async def test_signing_in_again_replaces_the_cookie(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        user = await register(http)
    async with Browser.open(server.url) as browser:
        assert (await sign_in_for(browser, EMAIL, PASSWORD)).status_code == 200
        first = _cookie(browser)
        (session,) = await _browser_sessions(user["id"])

        again = await sign_in_for(browser, EMAIL, PASSWORD)
        assert again.status_code == 200
        second = _cookie(browser)

    assert second != first
    (kept,) = await _browser_sessions(user["id"])
    assert kept.id == session.id
    assert kept.cookie_hash == token_hash(second)
    assert kept.auth_time > session.auth_time
    assert not await _signed_in_with(server, first)
    assert await _signed_in_with(server, second)


async def test_a_step_up_to_the_second_factor_replaces_the_cookie(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        assert (await sign_in_for(browser, EMAIL, PASSWORD)).status_code == 200
        password_only = _cookie(browser)
        secret, _ = await enrol_totp(client, await api_login(client))

        step_up = await browser.authorize(auth_params(rp, acr_values=ACR_MFA))
        assert is_mfa_page(step_up), step_up.text[:800]
        done = await post_form(
            browser, "/login/mfa", step_up, code=await fresh_totp_code(secret, user["id"])
        )
        await back_at_client(browser, done, rp)
        stepped_up = _cookie(browser)

    assert stepped_up != password_only
    (session,) = await _browser_sessions(user["id"])
    assert session.acr == ACR_MFA
    assert session.cookie_hash == token_hash(stepped_up)
    assert not await _signed_in_with(server, password_only)
    assert await _signed_in_with(server, stepped_up)
