"""The hosted code page and POST /v1/auth/mfa/verify are one `complete_second_factor` use case:
wrong codes from either side spend the same challenge's attempts and count toward one lockout."""

from __future__ import annotations

from typing import Any

import httpx

from provider.accounts.second_factor import MFA_CHALLENGE_ATTEMPTS
from provider.storage.models import AuditEvent, OneTimeToken, Session, User
from tests.hosted import alert_of, is_mfa_page, post_form
from tests.oidc import Browser, auth_params, is_login_page, register_client
from tests.support import PASSWORD, Server, assert_error, register
from tests.support import login as api_login
from tests.totp import enrol_totp, fresh_totp_code, start_mfa_login

EMAIL = "ada@example.com"
VERIFY = "/v1/auth/mfa/verify"


async def _mfa_user(http: httpx.AsyncClient) -> tuple[dict[str, Any], str]:
    user = await register(http)
    secret, _ = await enrol_totp(http, await api_login(http))
    return user, secret


async def _code_page(browser: Browser) -> httpx.Response:
    rp = await register_client()
    page = await browser.authorize(auth_params(rp))
    response = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
    assert is_mfa_page(response), response.text[:800]
    return response


async def _verify(http: httpx.AsyncClient, mfa_token: str, code: str) -> httpx.Response:
    return await http.post(VERIFY, json={"mfa_token": mfa_token, "code": code})


async def _evaluated(user_id: str) -> int:
    return await AuditEvent.filter(
        event="user.login_failed", user_id=user_id, details={"reason": "invalid_mfa_code"}
    ).count()


async def test_page_and_api_spend_one_challenges_attempts(server_with) -> None:  # type: ignore[no-untyped-def]
    # A threshold out of reach: only the challenge's own attempts stand in the way.
    server: Server = await server_with(lockout_threshold="50")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        user, secret = await _mfa_user(http)
    async with Browser.open(server.url) as browser:
        page = await _code_page(browser)
        # The browser's pending sign-in, answered through the API by the same browser.
        mfa_token = browser.http.cookies["mfa"]
        for _ in range(2):
            page = await post_form(browser, "/login/mfa", page, code="000000")
            assert page.status_code == 401
            assert is_mfa_page(page)
        for _ in range(MFA_CHALLENGE_ATTEMPTS - 2):
            assert_error(await _verify(browser.http, mfa_token, "000000"), 401, "invalid_code")
        assert await _evaluated(user["id"]) == MFA_CHALLENGE_ATTEMPTS == 5
        # The five attempts are spent: a right code is refused on either side.
        good = await fresh_totp_code(secret, user["id"])
        assert_error(await _verify(browser.http, mfa_token, good), 401, "invalid_mfa_token")
        refused = await post_form(browser, "/login/mfa", page, code=good)
        assert refused.status_code == 401
        assert is_login_page(refused)
        assert "sid" not in browser.http.cookies
    assert await _evaluated(user["id"]) == 5
    assert (await OneTimeToken.filter(purpose="mfa_login", used_at=None).count()) == 0
    assert (await User.get(id=user["id"])).locked_until is None
    assert await Session.filter(user_id=user["id"]).count() == 1  # the API's, from enrolment


async def test_page_and_api_wrong_codes_lock_the_account_together(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Three wrong codes on the page and two on the API make the five of the lockout."""
    user, secret = await _mfa_user(client)
    async with Browser.open(server.url) as browser:
        page = await _code_page(browser)
        for _ in range(3):
            page = await post_form(browser, "/login/mfa", page, code="000000")
            assert page.status_code == 401
        api_token = await start_mfa_login(client)
        assert_error(await _verify(client, api_token, "000000"), 401, "invalid_code")
        assert (await User.get(id=user["id"])).locked_until is None
        assert_error(await _verify(client, api_token, "000000"), 401, "invalid_code")
        assert (await User.get(id=user["id"])).locked_until is not None
        # Locked for both: the right code is refused on the API and on the page.
        good = await fresh_totp_code(secret, user["id"])
        assert_error(await _verify(client, api_token, good), 423, "account_locked")
        locked = await post_form(browser, "/login/mfa", page, code=good)
        assert locked.status_code == 423
        assert "locked" in alert_of(locked)
        assert "sid" not in browser.http.cookies
    assert await _evaluated(user["id"]) == 5
    locked_row = await AuditEvent.filter(event="user.locked", user_id=user["id"]).get()
    assert locked_row.details["failures"] == 5
    assert await AuditEvent.filter(event="mfa.verified").count() == 0
    assert await Session.filter(user_id=user["id"]).count() == 1  # the API's, from enrolment
