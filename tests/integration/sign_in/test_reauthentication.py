"""Adding a second factor needs a recent sign-in; POST /v1/auth/reauthenticate renews it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from provider.storage.models import AuditEvent, Session, User
from provider.storage.unit_of_work import utcnow
from tests.hosted import get, post_form, sign_in_for
from tests.oidc import Browser, csrf_of, decode_jwt, key_set
from tests.support import PASSWORD, Server, assert_error, bearer, login, register
from tests.totp import enrol_totp, fresh_totp_code

EMAIL = "ada@example.com"
STALE = timedelta(seconds=301)  # PROVIDER_REAUTHENTICATION_MAX_AGE defaults to 300


async def _age_sessions(user_id: str) -> None:
    """As if the user had signed in a while ago (the session's auth_time is what counts)."""
    await Session.filter(user_id=user_id).update(auth_time=utcnow() - STALE)


async def _reauthenticate(
    http: httpx.AsyncClient, tokens: dict[str, Any], **body: str
) -> httpx.Response:
    return await http.post("/v1/auth/reauthenticate", json=body, headers=bearer(tokens))


async def test_enrolling_totp_needs_a_recent_sign_in(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client, email=EMAIL)
    tokens = await login(client, EMAIL, PASSWORD)
    await _age_sessions(user["id"])
    refused = await client.post("/v1/auth/mfa/totp", headers=bearer(tokens))
    error = assert_error(refused, 403, "reauthentication_required")
    assert error["details"] == {"max_age": 300}
    assert (await User.get(id=user["id"])).totp_pending_secret is None

    wrong = await _reauthenticate(client, tokens, password="not the password")
    assert_error(wrong, 403, "invalid_password")
    assert await AuditEvent.filter(event="user.reauthentication_failed").count() == 1
    assert_error(await client.post("/v1/auth/mfa/totp", headers=bearer(tokens)), 403)

    renewed = await _reauthenticate(client, tokens, password=PASSWORD)
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()
    assert fresh["session"]["id"] == tokens["session"]["id"]
    assert fresh["refresh_token"] != tokens["refresh_token"]
    _, claims = decode_jwt(fresh["access_token"], await key_set(client))
    session = await Session.get(id=tokens["session"]["id"])
    assert claims["auth_time"] == int(session.auth_time.timestamp())
    assert utcnow() - session.auth_time < timedelta(seconds=60)
    audit = await AuditEvent.get(event="user.reauthenticated")
    assert str(audit.user_id) == user["id"]
    assert str(audit.session_id) == tokens["session"]["id"]
    assert audit.details == {"amr": ["pwd"]}
    # The session was proven again: its tokens, old and new, may enrol now.
    started = await client.post("/v1/auth/mfa/totp", headers=bearer(tokens))
    assert started.status_code == 200, started.text
    # The confirmation is checked too: a secret started earlier cannot be confirmed later on.
    await _age_sessions(user["id"])
    confirm = await client.post(
        "/v1/auth/mfa/totp/confirm", json={"code": "123456"}, headers=bearer(fresh)
    )
    assert_error(confirm, 403, "reauthentication_required")
    assert (await User.get(id=user["id"])).totp_enabled_at is None


async def test_reauthentication_with_mfa_on_needs_the_code(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client, email=EMAIL)
    tokens = await login(client, EMAIL, PASSWORD)
    secret, _ = await enrol_totp(client, tokens)
    await _age_sessions(user["id"])
    assert_error(await _reauthenticate(client, tokens, password=PASSWORD), 400, "invalid_request")
    wrong = await _reauthenticate(client, tokens, password=PASSWORD, code="000000")
    assert_error(wrong, 403, "invalid_code")
    code = await fresh_totp_code(secret, user["id"])
    renewed = await _reauthenticate(client, tokens, password=PASSWORD, code=code)
    assert renewed.status_code == 200, renewed.text
    session = await Session.get(id=tokens["session"]["id"])
    assert session.amr == ["pwd", "otp", "mfa"]
    assert utcnow() - session.auth_time < timedelta(seconds=60)


async def test_reauthentication_needs_a_session_and_is_rate_limited_like_login(
    server_with, clean: None
) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(ratelimit_login_per_account="3", tag="reauth-limit")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email=EMAIL)
        tokens = await login(http, EMAIL, PASSWORD)  # 1 of the account's 3
        assert_error(await http.post("/v1/auth/reauthenticate", json={"password": "x"}), 401)
        for _ in range(2):
            answer = await _reauthenticate(http, tokens, password="wrong")
            assert_error(answer, 403, "invalid_password")
        limited = await _reauthenticate(http, tokens, password=PASSWORD)
        assert_error(limited, 429, "rate_limited")


async def test_the_account_page_asks_for_the_password_again_before_enrolling(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client, email=EMAIL)
    async with Browser.open(server.url) as browser:
        page = await sign_in_for(browser, EMAIL, PASSWORD, "/account/mfa")
        assert 'id="start"' in page.text
        await _age_sessions(user["id"])
        response = await browser.http.post("/account/mfa/start", data={"csrf": csrf_of(page.text)})
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Faccount%2Fmfa&reauth=1"
        assert (await User.get(id=user["id"])).totp_pending_secret is None
        confirm = await get(browser, response.headers["location"])
        assert "Confirm it" in confirm.text
        assert f'value="{EMAIL}"' in confirm.text
        back = await post_form(browser, "/login", confirm, identifier=EMAIL, password=PASSWORD)
        assert browser.pages[-1] == "/account/mfa"
        sessions = await Session.filter(user_id=user["id"], revoked_at=None)
        assert len(sessions) == 1  # the same session, proven again
        assert utcnow() - sessions[0].auth_time < timedelta(seconds=60)
        shown = await post_form(browser, "/account/mfa/start", back)
        assert shown.status_code == 200, shown.text[:500]
        assert (await User.get(id=user["id"])).totp_pending_secret is not None
