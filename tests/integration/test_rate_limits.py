"""Sliding-window rate limits: per IP and per account on login, per IP on register and refresh."""

from __future__ import annotations

import re

import httpx
import pytest

from provider.crypto.tokens import token_hash
from provider.storage.models import RefreshToken
from tests.integration.conftest import Mailbox, token_from
from tests.support import PASSWORD, Server, assert_error, bearer, login, register, row_counts
from tests.totp import enrol_totp, fresh_totp_code, start_mfa_login

LOGIN = "/v1/auth/sessions"


def assert_rate_limited(response: httpx.Response, limit: int, window: int = 60) -> None:
    error = assert_error(response, 429, "rate_limited")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == str(retry_after)
    assert error["details"] == {"retry_after": retry_after}


async def _metric(http: httpx.AsyncClient, scope: str) -> float:
    text = (await http.get("/metrics")).text
    match = re.search(
        rf'^provider_rate_limit_hits_total\{{scope="{scope}"\}} ([0-9.e+]+)$', text, re.M
    )
    return float(match.group(1)) if match else 0.0


async def test_login_is_limited_per_ip(server_with) -> None:
    """Per client address; without PROVIDER_TRUST_PROXY that is the socket's, whatever the
    forwarding headers say."""
    server: Server = await server_with(ratelimit_login_per_ip="3", tag="login-ip")
    spoofed = [
        {"X-Forwarded-For": "203.0.113.1"},
        {"X-Real-IP": "203.0.113.2"},
        {"Forwarded": "for=203.0.113.3"},
        {"X-Forwarded-For": "203.0.113.4, 198.51.100.4"},
    ]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        hits = await _metric(http, "login_ip")
        ok = await http.post(LOGIN, json={"identifier": "ada@example.com", "password": PASSWORD})
        assert ok.status_code == 200
        assert ok.headers["x-ratelimit-limit"] == "3"
        assert ok.headers["x-ratelimit-remaining"] == "2"
        assert ok.headers["x-ratelimit-reset"] == "60"
        for identifier, headers in zip(
            ("one@example.com", "two@example.com"), spoofed[:2], strict=True
        ):
            response = await http.post(
                LOGIN, json={"identifier": identifier, "password": "x"}, headers=headers
            )
            assert response.status_code == 401
        before = await row_counts()
        # The budget of this address is spent: any identifier, even good credentials, waits.
        for identifier, headers in zip(
            ("ada@example.com", "three@example.com"), spoofed[2:], strict=True
        ):
            response = await http.post(
                LOGIN, json={"identifier": identifier, "password": PASSWORD}, headers=headers
            )
            assert_rate_limited(response, 3)
        # ... and so does a body that would not even parse: the limit comes first.
        assert_rate_limited(await http.post(LOGIN, content=b"garbage"), 3)
        assert await row_counts() == before
        assert await _metric(http, "login_ip") == hits + 3


async def test_login_is_limited_per_account(server_with) -> None:
    server: Server = await server_with(ratelimit_login_per_account="3", tag="login-account")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        await register(http, email="grace@example.com")
        hits = await _metric(http, "login_account")
        for identifier in ("ada@example.com", "ADA@example.com", "Ada@Example.com"):
            await login(http, identifier)
        before = await row_counts()
        response = await http.post(
            LOGIN, json={"identifier": "ada@EXAMPLE.com", "password": PASSWORD}
        )
        assert_rate_limited(response, 3)
        assert await row_counts() == before
        # Another account from the same address is not affected.
        assert (await login(http, "grace@example.com"))["user"]["email"] == "grace@example.com"
        assert await _metric(http, "login_account") == hits + 1


async def test_the_account_limit_counts_every_spelling_of_an_identifier(server_with) -> None:
    """Spaces, case and NFKC variants reach the same account, so they share its budget."""
    server: Server = await server_with(ratelimit_login_per_account="3", tag="login-account")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email="bob@example.com", username="bob")
        for identifier in (" bob@example.com", "bob@example.com\t", "\uff42ob@example.com"):
            await login(http, identifier)
        for identifier in ("  bob@example.com  ", "BOB@EXAMPLE.COM "):
            response = await http.post(LOGIN, json={"identifier": identifier, "password": PASSWORD})
            assert_rate_limited(response, 3)
        # The username is counted by its own normal form.
        for identifier in ("bob", " BOB", "Bob "):
            await login(http, identifier)
        response = await http.post(LOGIN, json={"identifier": " bob ", "password": PASSWORD})
        assert_rate_limited(response, 3)


async def test_register_is_limited_per_ip(server_with) -> None:
    server: Server = await server_with(ratelimit_register_per_ip="2", tag="register-ip")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        hits = await _metric(http, "register_ip")
        first = await http.post(
            "/v1/auth/register",
            json={"email": "a1@example.com", "password": PASSWORD, "name": "A"},
        )
        assert first.status_code == 201
        assert first.headers["x-ratelimit-limit"] == "2"
        assert first.headers["x-ratelimit-remaining"] == "1"
        await register(http, email="a2@example.com")
        before = await row_counts()
        response = await http.post(
            "/v1/auth/register",
            json={"email": "a3@example.com", "password": PASSWORD, "name": "A"},
        )
        assert_rate_limited(response, 2)
        assert await row_counts() == before
        assert await _metric(http, "register_ip") == hits + 1


async def test_refresh_is_limited_per_ip(server_with) -> None:
    server: Server = await server_with(ratelimit_refresh_per_ip="2", tag="refresh-ip")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        hits = await _metric(http, "refresh_ip")
        await register(http)
        token = (await login(http))["refresh_token"]
        for remaining in ("1", "0"):
            response = await http.post("/v1/auth/tokens/refresh", json={"refresh_token": token})
            assert response.status_code == 200
            assert response.headers["x-ratelimit-remaining"] == remaining
            token = response.json()["refresh_token"]
        before = await row_counts()
        response = await http.post("/v1/auth/tokens/refresh", json={"refresh_token": token})
        assert_rate_limited(response, 2)
        assert await row_counts() == before
        # The refused request did not consume the token.
        row = await RefreshToken.get(token_hash=token_hash(token))
        assert row.used_at is None
        assert row.revoked_at is None
        assert await _metric(http, "refresh_ip") == hits + 1


def _room(response: httpx.Response) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["x-ratelimit-limit"]),
        int(headers["x-ratelimit-remaining"]),
        int(headers["x-ratelimit-reset"]),
    )


async def test_each_counted_account_action_reports_the_room_left(
    mail_server: Server, mailbox: Mailbox, redis_url: str
) -> None:
    """The use cases count their own limits and hand the room left to the API's headers: the
    address's window for a verification, a reset and a second factor, the user's for a resend."""
    if not redis_url:
        # Exact counts need empty windows: the `clean` fixture empties Redis, but the memory
        # cache of the module's server keeps the windows of earlier tests. CI runs on Redis.
        pytest.skip("exact window counts need the Redis the fixtures empty")
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        user = await register(http)
        tokens = await login(http)
        resent = await http.post("/v1/auth/email/resend", headers=bearer(tokens))
        assert resent.status_code == 202
        limit, remaining, reset = _room(resent)
        assert remaining == limit - 1
        assert 0 < reset <= 3600
        mail = await mailbox.wait_for("ada@example.com", "Verify your email address")
        verified = await http.post(
            "/v1/auth/email/verify",
            json={"token": token_from(mail, mail_server, "/email/verify")},
        )
        assert verified.status_code == 200
        limit, remaining, _ = _room(verified)
        assert remaining == limit - 1
        mailbox.clear()

        forgot = await http.post("/v1/auth/password/forgot", json={"email": "ada@example.com"})
        assert forgot.status_code == 202
        assert "x-ratelimit-limit" not in forgot.headers
        mail = await mailbox.wait_for("ada@example.com", "Reset your password")
        reset_response = await http.post(
            "/v1/auth/password/reset",
            json={
                "token": token_from(mail, mail_server, "/password/reset"),
                "password": "a brand new passphrase",
            },
        )
        assert reset_response.status_code == 200
        limit, remaining, _ = _room(reset_response)
        assert remaining == limit - 1

        secret, _ = await enrol_totp(http, await login(http, password="a brand new passphrase"))
        mfa_token = await start_mfa_login(http, password="a brand new passphrase")
        second = await http.post(
            "/v1/auth/mfa/verify",
            json={"mfa_token": mfa_token, "code": await fresh_totp_code(secret, user["id"])},
        )
        assert second.status_code == 200
        limit, remaining, _ = _room(second)
        assert remaining == limit - 1
