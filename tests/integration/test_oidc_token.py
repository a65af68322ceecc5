"""The token endpoint: code redemption and the ID token, code binding and reuse, PKCE, refresh
rotation and reuse, client_credentials (RFC 6749 §4.1.3, §4.4, §6; RFC 7636; OIDC Core §3.1.3)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from provider.crypto.tokens import token_hash
from provider.storage.models import AuditEvent, AuthorizationCode, Client, RefreshToken, Session
from provider.storage.unit_of_work import utcnow
from tests.oidc import (
    Browser,
    RegisteredClient,
    decode_jwt,
    key_set,
    left_half_hash,
    now,
    pkce_pair,
    redeem_code,
    refresh,
    register_client,
    sign_in_and_get_code,
    sign_in_for_tokens,
    token_request,
)
from tests.support import PASSWORD, Server, bearer, register

OFFLINE = "openid profile email offline_access"


def _assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.json()["error"] == error, response.text
    assert response.headers["cache-control"] == "no-store"


async def _code(
    server: Server, rp: RegisteredClient, **extra: str
) -> tuple[Browser, dict[str, str], dict[str, str]]:
    """A browser signed in and a fresh code (the caller closes the browser's client)."""
    http = httpx.AsyncClient(base_url=server.url, timeout=30)
    browser = Browser(http)
    result, params = await sign_in_and_get_code(browser, rp, "ada@example.com", PASSWORD, **extra)
    assert result["state"] == params["state"]
    assert result["iss"] == server.url
    return browser, result, params


async def _verify_happy_flow(
    server: Server, client: httpx.AsyncClient, rp: RegisteredClient, auth: str
) -> None:
    user = await register(client)
    async with Browser.open(server.url) as browser:
        started = now()
        body, params = await sign_in_for_tokens(
            browser, rp, "ada@example.com", PASSWORD, auth=auth, scope=OFFLINE
        )
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == OFFLINE
    assert body["refresh_token"]
    keys = await key_set(client)
    published = {jwk["kid"] for jwk in (await client.get("/jwks")).json()["keys"]}
    header, claims = decode_jwt(body["id_token"], keys)
    session = await Session.get(user_id=user["id"])
    assert header["alg"] == "RS256"
    assert header["kid"] in published
    assert claims["iss"] == server.url
    assert claims["sub"] == user["id"]
    assert claims["aud"] == rp.client_id
    assert claims["azp"] == rp.client_id
    assert started - 5 <= claims["iat"] <= now() + 5
    assert claims["exp"] == claims["iat"] + 600
    assert claims["auth_time"] == int(session.auth_time.timestamp())
    assert started - 5 <= claims["auth_time"] <= claims["iat"]
    assert claims["nonce"] == params["nonce"]
    assert claims["sid"] == str(session.id)
    assert claims["amr"] == ["pwd"]
    # OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token.
    assert claims["at_hash"] == left_half_hash(body["access_token"])
    assert claims["email"] == "ada@example.com"
    assert claims["name"] == "Ada"

    access_header, access = decode_jwt(body["access_token"], keys)
    assert access_header["typ"] == "at+jwt"
    assert access["iss"] == server.url
    assert access["sub"] == user["id"]
    assert access["client_id"] == rp.client_id
    assert access["scope"] == OFFLINE
    assert access["sid"] == str(session.id)
    assert access["exp"] - access["iat"] == 600

    code = await AuthorizationCode.get(client_id=rp.client_id)
    assert code.used_at is not None
    assert code.issued_access_jti == access["jti"]
    family = await RefreshToken.get(token_hash=token_hash(body["refresh_token"]))
    assert family.client_id == rp.client_id
    assert family.scope == OFFLINE
    assert str(family.session_id) == str(session.id)
    assert await AuditEvent.filter(event="token.issued", client_id=rp.client_id).count() == 1


async def test_happy_flow_client_secret_basic(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client()
    await _verify_happy_flow(server, client, rp, "basic")


async def test_happy_flow_client_secret_post(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client(auth_method="client_secret_post")
    await _verify_happy_flow(server, client, rp, "post")


async def test_code_flow_without_nonce(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, "ada@example.com", PASSWORD, nonce="")
    _, claims = decode_jwt(body["id_token"], await key_set(client))
    assert "nonce" not in claims
    assert claims["aud"] == rp.client_id


async def test_code_reuse_revokes_everything_it_issued(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    browser, result, _ = await _code(server, rp, scope=OFFLINE)
    await browser.http.aclose()
    first = await redeem_code(client, rp, result["code"])
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert (
        await client.get("/userinfo", headers=bearer(tokens["access_token"]))
    ).status_code == 200

    second = await redeem_code(client, rp, result["code"])
    _assert_oauth_error(second, 400, "invalid_grant")

    # RFC 6749 §4.1.2 / RFC 9700 §4.5: what the first redemption issued is revoked.
    refreshed = await refresh(client, rp, tokens["refresh_token"])
    _assert_oauth_error(refreshed, 400, "invalid_grant")
    rows = await RefreshToken.filter(client_id=rp.client_id)
    assert rows
    assert all(row.revoked_at is not None for row in rows)
    assert {row.revoked_reason for row in rows} == {"code_reuse"}
    info = await client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert info.status_code == 401
    assert 'error="invalid_token"' in info.headers["www-authenticate"]
    introspected = await client.post(
        "/introspect", data={"token": tokens["access_token"]}, auth=rp.basic()
    )
    assert introspected.json() == {"active": False}
    assert await AuditEvent.filter(event="authorization_code.reuse_detected").count() == 1


async def test_code_is_bound_to_its_client(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    other = await register_client(name="Other App")
    browser, result, _ = await _code(server, rp)
    await browser.http.aclose()
    stolen = await redeem_code(client, other, result["code"])
    _assert_oauth_error(stolen, 400, "invalid_grant")
    assert await AuditEvent.filter(event="token.issued").count() == 0


async def test_code_is_bound_to_its_redirect_uri(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    second_uri = "http://127.0.0.1:9/other-callback"
    rp = await register_client(redirect_uris=["http://127.0.0.1:9/callback", second_uri])
    browser, result, _ = await _code(server, rp)
    await browser.http.aclose()
    for redirect_uri in (second_uri, "http://127.0.0.1:9/callback/", "http://evil.example/cb"):
        response = await redeem_code(client, rp, result["code"], redirect_uri=redirect_uri)
        _assert_oauth_error(response, 400, "invalid_grant")
    assert await AuditEvent.filter(event="token.issued").count() == 0


async def test_expired_code_is_refused(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    browser, result, _ = await _code(server, rp)
    await browser.http.aclose()
    moved = await AuthorizationCode.filter(code_hash=token_hash(result["code"])).update(
        expires_at=utcnow() - timedelta(seconds=1)
    )
    assert moved == 1
    response = await redeem_code(client, rp, result["code"])
    _assert_oauth_error(response, 400, "invalid_grant")
    code = await AuthorizationCode.get(code_hash=token_hash(result["code"]))
    assert code.used_at is None


async def test_concurrent_redemption_yields_one_token(
    server: Server, client: httpx.AsyncClient, database_url: str
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("concurrency of the single-use claim is tested on PostgreSQL")
    await register(client)
    rp = await register_client()
    browser, result, _ = await _code(server, rp)
    await browser.http.aclose()
    responses = await asyncio.gather(*(redeem_code(client, rp, result["code"]) for _ in range(10)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * 9, statuses
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    assert await AuditEvent.filter(event="token.issued").count() == 1


# --- PKCE (RFC 7636, RFC 9700 §2.1.1) -------------------------------------------------------


async def test_pkce_s256_round_trip(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    verifier, challenge = pkce_pair()
    browser, result, _ = await _code(
        server, rp, code_challenge=challenge, code_challenge_method="S256"
    )
    await browser.http.aclose()
    code = await AuthorizationCode.get(code_hash=token_hash(result["code"]))
    assert code.code_challenge == challenge
    response = await redeem_code(client, rp, result["code"], verifier=verifier)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "case", ["wrong_verifier", "missing_verifier", "verifier_without_challenge"]
)
async def test_pkce_mismatch_is_invalid_grant(
    server: Server, client: httpx.AsyncClient, case: str
) -> None:
    await register(client)
    rp = await register_client()
    verifier, challenge = pkce_pair()
    extra = (
        {}
        if case == "verifier_without_challenge"
        else {"code_challenge": challenge, "code_challenge_method": "S256"}
    )
    browser, result, _ = await _code(server, rp, **extra)
    await browser.http.aclose()
    presented = {
        "wrong_verifier": pkce_pair()[0],
        "missing_verifier": None,
        "verifier_without_challenge": verifier,
    }[case]
    response = await redeem_code(client, rp, result["code"], verifier=presented)
    _assert_oauth_error(response, 400, "invalid_grant")
    assert await AuditEvent.filter(event="token.issued").count() == 0


async def test_public_client_with_pkce_gets_tokens_without_secret(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client(public=True)
    assert rp.secret is None
    async with Browser.open(server.url) as browser:
        body, params = await sign_in_for_tokens(
            browser, rp, "ada@example.com", PASSWORD, auth="none", scope=OFFLINE
        )
    _, claims = decode_jwt(body["id_token"], await key_set(client))
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == params["nonce"]
    assert body["refresh_token"]
    rotated = await token_request(
        client,
        rp,
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth="none",
    )
    assert rotated.status_code == 200, rotated.text


async def test_public_client_cannot_redeem_without_verifier(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client(public=True)
    _, challenge = pkce_pair()
    browser, result, _ = await _code(
        server, rp, code_challenge=challenge, code_challenge_method="S256"
    )
    await browser.http.aclose()
    response = await redeem_code(client, rp, result["code"], auth="none")
    _assert_oauth_error(response, 400, "invalid_grant")


# --- Refresh tokens (RFC 6749 §6, OAuth 2.1 §4.3.1) -----------------------------------------


async def _offline_tokens(server: Server, rp: RegisteredClient, **extra: str) -> dict[str, Any]:
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(
            browser, rp, "ada@example.com", PASSWORD, **{"scope": OFFLINE, **extra}
        )
    return body


async def test_refresh_rotates(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client)
    rp = await register_client()
    tokens = await _offline_tokens(server, rp)
    response = await refresh(client, rp, tokens["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    rotated = response.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]
    assert rotated["scope"] == OFFLINE
    keys = await key_set(client)
    _, original = decode_jwt(tokens["id_token"], keys)
    _, claims = decode_jwt(rotated["id_token"], keys)
    # OIDC Core §12.2: same iss, sub, aud, azp and auth_time; a new iat; no nonce.
    for name in ("iss", "sub", "aud", "azp", "auth_time", "sid"):
        assert claims[name] == original[name], name
    assert claims["sub"] == user["id"]
    assert claims["iat"] >= original["iat"]
    assert "nonce" not in claims
    assert claims["at_hash"] == left_half_hash(rotated["access_token"])
    old = await RefreshToken.get(token_hash=token_hash(tokens["refresh_token"]))
    new = await RefreshToken.get(token_hash=token_hash(rotated["refresh_token"]))
    assert old.used_at is not None
    assert new.parent_id == old.id
    assert new.family_id == old.family_id
    assert new.used_at is None
    again = await refresh(client, rp, rotated["refresh_token"])
    assert again.status_code == 200, again.text
    assert await AuditEvent.filter(event="token.refreshed", client_id=rp.client_id).count() == 2


async def test_refresh_token_is_bound_to_its_client(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    other = await register_client(name="Other App")
    tokens = await _offline_tokens(server, rp)
    stolen = await refresh(client, other, tokens["refresh_token"])
    _assert_oauth_error(stolen, 400, "invalid_grant")
    row = await RefreshToken.get(token_hash=token_hash(tokens["refresh_token"]))
    assert row.used_at is None
    assert row.revoked_at is None
    # The rightful client keeps its grant.
    assert (await refresh(client, rp, tokens["refresh_token"])).status_code == 200


async def test_refresh_scope_can_only_narrow(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    tokens = await _offline_tokens(server, rp)
    wider = await refresh(client, rp, tokens["refresh_token"], scope=OFFLINE + " phone")
    _assert_oauth_error(wider, 400, "invalid_scope")
    # A refused request must not consume the token, or the client's retry would look like theft.
    row = await RefreshToken.get(token_hash=token_hash(tokens["refresh_token"]))
    assert row.used_at is None
    narrower = await refresh(client, rp, tokens["refresh_token"], scope="openid offline_access")
    assert narrower.status_code == 200, narrower.text
    body = narrower.json()
    assert body["scope"] == "openid offline_access"
    _, access = decode_jwt(body["access_token"], await key_set(client))
    assert access["scope"] == "openid offline_access"
    _, id_claims = decode_jwt(body["id_token"], await key_set(client))
    assert "email" not in id_claims
    # The grant itself is not narrowed: the next refresh may ask for the original scope again.
    child = await RefreshToken.get(token_hash=token_hash(body["refresh_token"]))
    assert child.scope == OFFLINE
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0


@pytest.mark.parametrize("replay_scope", [None, OFFLINE + " phone"])
async def test_refresh_reuse_revokes_the_family(
    server: Server, client: httpx.AsyncClient, replay_scope: str | None
) -> None:
    user = await register(client)
    rp = await register_client()
    tokens = await _offline_tokens(server, rp)
    first = await refresh(client, rp, tokens["refresh_token"])
    assert first.status_code == 200
    # Asking for a wider scope does not dodge reuse detection.
    extra = {"scope": replay_scope} if replay_scope else {}
    replay = await refresh(client, rp, tokens["refresh_token"], **extra)
    _assert_oauth_error(replay, 400, "invalid_grant")
    newer = await refresh(client, rp, first.json()["refresh_token"])
    _assert_oauth_error(newer, 400, "invalid_grant")
    family = await RefreshToken.filter(client_id=rp.client_id)
    assert len(family) == 2
    assert all(row.revoked_at is not None for row in family)
    event = await AuditEvent.get(event="token.reuse_detected")
    assert event.outcome == "failure"
    assert str(event.user_id) == user["id"]
    assert event.client_id == rp.client_id
    session = await Session.get(user_id=user["id"])
    assert session.compromised_at is not None
    assert session.revoked_at is not None


async def test_refresh_token_only_with_offline_access_or_first_party(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    third_party = await register_client()
    first_party = await register_client(name="Our App", first_party=True)
    no_grant = await register_client(name="No Refresh", grant_types=["authorization_code"])
    async with Browser.open(server.url) as browser:
        online, _ = await sign_in_for_tokens(browser, third_party, "ada@example.com", PASSWORD)
        ours, _ = await sign_in_for_tokens(browser, first_party, "ada@example.com", PASSWORD)
        without_grant, _ = await sign_in_for_tokens(
            browser, no_grant, "ada@example.com", PASSWORD, scope=OFFLINE
        )
    assert "refresh_token" not in online
    assert ours["refresh_token"]
    assert "refresh_token" not in without_grant
    assert await RefreshToken.filter(client_id=third_party.client_id).count() == 0
    assert await RefreshToken.filter(client_id=no_grant.client_id).count() == 0


# --- client_credentials (RFC 6749 §4.4) ------------------------------------------------------


async def test_client_credentials(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client(
        name="Service", redirect_uris=[], grant_types=["client_credentials"], scopes=["openid"]
    )
    await Client.filter(id=rp.client_id).update(scopes=["openid", "api.read"])
    response = await token_request(
        client, rp, {"grant_type": "client_credentials", "scope": "api.read"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api.read"
    assert "refresh_token" not in body
    assert "id_token" not in body
    header, claims = decode_jwt(body["access_token"], await key_set(client))
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == rp.client_id
    assert claims["client_id"] == rp.client_id
    assert claims["scope"] == "api.read"
    assert "sid" not in claims
    # Scopes about a user, or scopes the client was not given, are refused.
    for scope in ("openid", "api.write", "api.read profile"):
        refused = await token_request(
            client, rp, {"grant_type": "client_credentials", "scope": scope}
        )
        _assert_oauth_error(refused, 400, "invalid_scope")


async def test_client_without_the_grant_is_unauthorized(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await register_client()
    response = await token_request(client, rp, {"grant_type": "client_credentials"})
    _assert_oauth_error(response, 400, "unauthorized_client")


async def test_unknown_or_missing_grant_type(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client()
    for grant_type in ("password", "urn:ietf:params:oauth:grant-type:device_code", "implicit"):
        response = await token_request(client, rp, {"grant_type": grant_type})
        _assert_oauth_error(response, 400, "unsupported_grant_type")
    missing = await token_request(client, rp, {"code": "x"})
    _assert_oauth_error(missing, 400, "invalid_request")


async def test_repeated_parameter_is_refused(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client()
    response = await client.post(
        "/token",
        content="grant_type=authorization_code&code=a&code=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=rp.basic(),
    )
    _assert_oauth_error(response, 400, "invalid_request")
    json_body = await client.post("/token", json={"grant_type": "client_credentials"})
    _assert_oauth_error(json_body, 400, "invalid_request")
