"""The second step of a sign-in counts each attempt before it evaluates the code.

Thirty wrong codes sent at once used to be evaluated 29 times before the lockout answered; now at
most MFA_CHALLENGE_ATTEMPTS codes are evaluated per challenge, and no more than the lockout
threshold per account, however the requests interleave. The evaluations are counted by their
audit rows (`user.login_failed`, reason `invalid_mfa_code`), one per evaluated wrong code. A code
sent with the password (turning TOTP off, new backup codes, re-authentication) is counted before
it is evaluated too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from provider.accounts.second_factor import MFA_CHALLENGE_ATTEMPTS
from provider.storage.models import AuditEvent, OneTimeToken, User
from tests.hosted import is_mfa_page, post_form, sign_in_for
from tests.oidc import Browser, is_login_page
from tests.support import PASSWORD, Server, bearer, login, register
from tests.totp import enrol_totp, fresh_totp_code, start_mfa_login


async def _mfa_user(http: httpx.AsyncClient) -> tuple[dict[str, Any], str, list[str]]:
    user = await register(http)
    secret, codes = await enrol_totp(http, await login(http))
    return user, secret, codes


async def _verify(http: httpx.AsyncClient, mfa_token: str, code: str) -> httpx.Response:
    return await http.post("/v1/auth/mfa/verify", json={"mfa_token": mfa_token, "code": code})


async def _evaluated(user_id: str) -> int:
    return await AuditEvent.filter(
        event="user.login_failed", user_id=user_id, details={"reason": "invalid_mfa_code"}
    ).count()


def _codes(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    return sorted((r.status_code, r.json()["error"]["code"]) for r in responses)


async def test_thirty_concurrent_wrong_codes_evaluate_at_most_five(server_with) -> None:  # type: ignore[no-untyped-def]
    # A threshold the burst cannot reach: only the per-challenge limit stands in the way.
    server: Server = await server_with(lockout_threshold="50")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        user, secret, codes = await _mfa_user(http)
        mfa_token = await start_mfa_login(http)

        responses = await asyncio.gather(*(_verify(http, mfa_token, "000000") for _ in range(30)))

        assert await _evaluated(user["id"]) == MFA_CHALLENGE_ATTEMPTS == 5
        outcomes = _codes(list(responses))
        assert outcomes.count((401, "invalid_code")) == 5
        assert outcomes.count((401, "invalid_mfa_token")) == 25
        # The challenge is dead: a right code, or a backup code, is refused and spends nothing.
        good = await fresh_totp_code(secret, user["id"])
        refused = await _verify(http, mfa_token, good)
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_mfa_token")
        assert (await _verify(http, mfa_token, codes[0])).status_code == 401
        assert (await OneTimeToken.get(purpose="mfa_login")).used_at is not None
        assert await _evaluated(user["id"]) == 5
        assert (await User.get(id=user["id"])).locked_until is None
        # A new challenge starts from zero.
        fresh = await start_mfa_login(http)
        assert (await _verify(http, fresh, good)).status_code == 200


async def test_a_right_code_after_five_wrong_ones_is_refused(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(lockout_threshold="50")
    async with httpx.AsyncClient(base_url=server.url) as http:
        user, _, codes = await _mfa_user(http)
        mfa_token = await start_mfa_login(http)
        for _ in range(MFA_CHALLENGE_ATTEMPTS):
            assert (await _verify(http, mfa_token, "000000")).status_code == 401
        refused = await _verify(http, mfa_token, codes[0])
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_mfa_token")
        assert await _evaluated(user["id"]) == 5


async def test_concurrent_codes_on_many_challenges_stop_at_the_lockout(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        user, secret, _ = await _mfa_user(http)
        tokens = [await start_mfa_login(http) for _ in range(6)]

        responses = await asyncio.gather(
            *(_verify(http, token, "000000") for token in tokens for _ in range(5))
        )

        # PROVIDER_LOCKOUT_THRESHOLD's default, whichever challenges the attempts came on.
        assert await _evaluated(user["id"]) == 5
        outcomes = _codes(list(responses))
        assert outcomes.count((401, "invalid_code")) == 5
        assert outcomes.count((423, "account_locked")) == 25
        assert (await User.get(id=user["id"])).locked_until is not None
        assert await AuditEvent.filter(event="user.locked", user_id=user["id"]).count() == 1
        good = await fresh_totp_code(secret, user["id"])
        locked = await _verify(http, tokens[-1], good)
        assert (locked.status_code, locked.json()["error"]["code"]) == (423, "account_locked")


async def test_the_code_page_shares_the_challenge_limit(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(lockout_threshold="50")
    async with httpx.AsyncClient(base_url=server.url) as http:
        user, secret, _ = await _mfa_user(http)
    async with Browser.open(server.url) as browser:
        page = await sign_in_for(browser, "ada@example.com", PASSWORD)
        assert is_mfa_page(page)
        for _ in range(MFA_CHALLENGE_ATTEMPTS):
            page = await post_form(browser, "/login/mfa", page, code="000000")
            assert page.status_code == 401
            assert is_mfa_page(page)
        good = await fresh_totp_code(secret, user["id"])
        refused = await post_form(browser, "/login/mfa", page, code=good)
        # The challenge is spent: back to the password, signed in nowhere.
        assert refused.status_code == 401
        assert is_login_page(refused)
        assert "sid" not in browser.http.cookies
    assert await _evaluated(user["id"]) == 5


async def test_concurrent_wrong_codes_with_the_password_evaluate_at_most_the_threshold(
    server: Server,
) -> None:
    """Turning TOTP off, replacing the backup codes and re-authenticating ask for the password and
    a code: whoever holds the password and a session cannot outrun the lockout with codes sent
    at once. Each evaluated wrong code writes one refusal row."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        user = await register(http)
        tokens = await login(http)
        await enrol_totp(http, tokens)
        body = {"password": PASSWORD, "code": "000000"}
        headers = bearer(tokens)

        responses = await asyncio.gather(
            *(
                request
                for _ in range(10)
                for request in (
                    http.request("DELETE", "/v1/auth/mfa/totp", json=body, headers=headers),
                    http.post("/v1/auth/mfa/backup-codes", json=body, headers=headers),
                    http.post("/v1/auth/reauthenticate", json=body, headers=headers),
                )
            )
        )

        evaluated = await AuditEvent.filter(
            event__in=["mfa.reauthentication_failed", "user.reauthentication_failed"],
            user_id=user["id"],
        ).count()
        outcomes = [code for _, code in _codes(list(responses))]
        # PROVIDER_LOCKOUT_THRESHOLD's default.
        assert evaluated == 5, outcomes
        assert outcomes.count("invalid_code") == 5
        assert outcomes.count("account_locked") == 25
        row = await User.get(id=user["id"])
        assert row.locked_until is not None
        assert row.totp_enabled_at is not None
