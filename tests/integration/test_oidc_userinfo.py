"""The UserInfo endpoint (OIDC Core §5.3) and its bearer-token handling (RFC 6750)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from provider.crypto.keys import Keystore
from provider.sessions.access_tokens import AccessGrant, mint_access_token
from provider.storage.models import Client, User
from provider.storage.unit_of_work import utcnow
from tests.oidc import (
    Browser,
    RegisteredClient,
    decode_jwt,
    key_set,
    register_client,
    sign_in_for_tokens,
    sign_out,
    token_request,
)
from tests.support import PASSWORD, Server, bearer, register

EMAIL = "ada@example.com"


async def _tokens(server: Server, rp: RegisteredClient, scope: str) -> dict[str, Any]:
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope=scope)
    return body


def _assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, (response.status_code, response.text)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert response.json()["error"] == "invalid_token"


async def test_userinfo_get_post_and_form_body(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client, username="ada")
    rp = await register_client()
    tokens = await _tokens(server, rp, "openid profile email")
    access = tokens["access_token"]
    responses = [
        await client.get("/userinfo", headers=bearer(access)),
        await client.post("/userinfo", headers=bearer(access)),
        await client.post("/userinfo", data={"access_token": access}),
    ]
    _, id_claims = decode_jwt(tokens["id_token"], await key_set(client))
    for response in responses:
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"].startswith("application/json")
        claims = response.json()
        # OIDC Core §5.3.2: sub MUST equal the ID token's sub.
        assert claims["sub"] == user["id"] == id_claims["sub"]
        assert claims["email"] == EMAIL
    assert responses[0].json() == responses[1].json() == responses[2].json()


async def test_token_in_header_and_body_is_refused(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    access = (await _tokens(server, rp, "openid"))["access_token"]
    response = await client.post("/userinfo", headers=bearer(access), data={"access_token": access})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_no_token_is_a_bare_bearer_challenge(
    server: Server, client: httpx.AsyncClient
) -> None:
    for response in (
        await client.get("/userinfo"),
        await client.post("/userinfo"),
        await client.get("/userinfo", headers={"Authorization": "Basic Zm9vOmJhcg=="}),
    ):
        assert response.status_code == 401
        # RFC 6750 §3.1: without credentials, no error code in the challenge.
        assert response.headers["www-authenticate"] == "Bearer"


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "openid profile email phone address"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_bad_expired_and_tampered_tokens(
    server: Server, client: httpx.AsyncClient, keys_dir: Path
) -> None:
    await register(client)
    rp = await register_client()
    tokens = await _tokens(server, rp, "openid profile")
    _, claims = decode_jwt(tokens["access_token"], await key_set(client))
    keystore = Keystore(keys_dir, 600)
    grant = AccessGrant(
        subject=claims["sub"],
        client_id=rp.client_id,
        scope="openid profile",
        session_id=claims["sid"],
        auth_time=claims["auth_time"],
        audience=server.url,
    )
    expired = mint_access_token(keystore, server.url, -60, grant).value
    foreign_key = RSAKey.generate_key(2048, private=True)
    foreign = jwt.encode(
        {"alg": "RS256", "kid": keystore.signing_key().kid, "typ": "at+jwt"}, claims, foreign_key
    )
    wrong_issuer = mint_access_token(keystore, "https://other.example", 600, grant).value
    for token in (
        "garbage",
        "a.b.c",
        _tamper(tokens["access_token"]),
        expired,
        foreign,
        wrong_issuer,
        tokens["id_token"],  # an ID token is not an access token (RFC 9068 §4: typ at+jwt)
        tokens.get("refresh_token", "x" * 43),
    ):
        _assert_invalid_token(await client.get("/userinfo", headers=bearer(token)))
    assert (
        await client.get("/userinfo", headers=bearer(tokens["access_token"]))
    ).status_code == 200


async def test_revoked_access_token_is_refused(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    access = (await _tokens(server, rp, "openid"))["access_token"]
    revoked = await client.post("/revoke", data={"token": access}, auth=rp.basic())
    assert revoked.status_code == 200
    _assert_invalid_token(await client.get("/userinfo", headers=bearer(access)))


async def test_token_of_a_logged_out_session_is_refused(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
        assert (await client.get("/userinfo", headers=bearer(tokens["access_token"]))).is_success
        response = await sign_out(browser, id_token_hint=tokens["id_token"])
        assert response.status_code == 200
    _assert_invalid_token(await client.get("/userinfo", headers=bearer(tokens["access_token"])))


@pytest.mark.parametrize(
    ("scope", "expected", "absent"),
    [
        ("openid", {"sub"}, {"name", "email", "preferred_username"}),
        ("openid profile", {"sub", "name", "preferred_username", "updated_at"}, {"email"}),
        ("openid email", {"sub", "email", "email_verified"}, {"name", "updated_at"}),
    ],
)
async def test_claims_follow_the_scope(
    server: Server,
    client: httpx.AsyncClient,
    scope: str,
    expected: set[str],
    absent: set[str],
) -> None:
    user = await register(client, username="ada")
    rp = await register_client()
    access = (await _tokens(server, rp, scope))["access_token"]
    claims = (await client.get("/userinfo", headers=bearer(access))).json()
    assert expected <= set(claims)
    assert not absent & set(claims)
    stored = await User.get(id=user["id"])
    if "profile" in scope:
        assert claims["name"] == "Ada"
        assert claims["preferred_username"] == "ada"
        assert claims["updated_at"] == int(stored.updated_at.timestamp())
    if "email" in scope:
        assert claims["email"] == EMAIL
        assert claims["email_verified"] is False
        await User.filter(id=user["id"]).update(email_verified_at=utcnow())
        again = (await client.get("/userinfo", headers=bearer(access))).json()
        assert again["email_verified"] is True


async def test_client_credentials_token_lacks_the_scope(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await register_client(
        name="Service", redirect_uris=[], grant_types=["client_credentials"], scopes=["openid"]
    )
    await Client.filter(id=rp.client_id).update(scopes=["openid", "api.read"])
    response = await token_request(
        client, rp, {"grant_type": "client_credentials", "scope": "api.read"}
    )
    assert response.status_code == 200, response.text
    info = await client.get("/userinfo", headers=bearer(response.json()["access_token"]))
    assert info.status_code == 403
    assert info.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in info.headers["www-authenticate"]


async def test_token_without_openid_lacks_the_scope(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    tokens = await _tokens(server, rp, "openid profile offline_access")
    narrowed = await token_request(
        client,
        rp,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "profile",
        },
    )
    assert narrowed.status_code == 200, narrowed.text
    info = await client.get("/userinfo", headers=bearer(narrowed.json()["access_token"]))
    assert info.status_code == 403
    assert info.json()["error"] == "insufficient_scope"
