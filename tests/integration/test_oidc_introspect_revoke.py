"""Token introspection (RFC 7662) and revocation (RFC 7009), both client-authenticated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provider.crypto.tokens import token_hash
from provider.storage.models import AuditEvent, RefreshToken
from tests.oidc import (
    Browser,
    RegisteredClient,
    decode_jwt,
    key_set,
    refresh,
    register_client,
    sign_in_for_tokens,
    sign_out,
)
from tests.support import PASSWORD, Server, bearer, register

EMAIL = "ada@example.com"
OFFLINE = "openid profile offline_access"


async def _tokens(server: Server, rp: RegisteredClient, scope: str = OFFLINE) -> dict[str, Any]:
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope=scope)
    return body


async def _introspect(
    client: httpx.AsyncClient, rp: RegisteredClient, token: str, **extra: str
) -> dict[str, Any]:
    response = await client.post("/introspect", data={"token": token, **extra}, auth=rp.basic())
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


# --- Introspection ---------------------------------------------------------------------------


async def test_introspection_needs_client_authentication(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    public = await register_client(name="SPA", public=True)
    access = (await _tokens(server, rp))["access_token"]
    attempts = [
        await client.post("/introspect", data={"token": access}),
        await client.post("/introspect", data={"token": access, "client_id": rp.client_id}),
        await client.post(
            "/introspect", data={"token": access}, auth=httpx.BasicAuth(rp.client_id, "wrong")
        ),
        # A public client proves nothing about who is asking (RFC 7662 §2.1).
        await client.post("/introspect", data={"token": access, "client_id": public.client_id}),
    ]
    for response in attempts:
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        assert "active" not in response.json()


async def test_active_access_token(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client)
    rp = await register_client()
    tokens = await _tokens(server, rp)
    _, claims = decode_jwt(tokens["access_token"], await key_set(client))
    body = await _introspect(client, rp, tokens["access_token"], token_type_hint="access_token")
    assert body["active"] is True
    assert body["scope"] == OFFLINE
    assert body["client_id"] == rp.client_id
    assert body["sub"] == user["id"]
    assert body["iss"] == server.url
    assert body["exp"] == claims["exp"]
    assert body["iat"] == claims["iat"]
    assert body["jti"] == claims["jti"]
    assert body["token_type"] == "Bearer"
    # The account has no username: its email is not given out as one.
    assert "username" not in body
    assert user["email"] not in response_text(body)


def response_text(body: dict[str, Any]) -> str:
    return repr(sorted(body.items()))


async def test_introspection_shows_a_token_only_to_whom_it_concerns(
    server: Server, client: httpx.AsyncClient
) -> None:
    """RFC 7662 §2.2/§4: the token's client, a resource server its audience names, or a client
    registered with introspect_any; anyone else learns nothing (active false, no claims)."""
    await register(client, username="ada")
    resource_server = await register_client(
        name="Orders API", redirect_uris=[], grant_types=["client_credentials"]
    )
    rp = await register_client(audience=resource_server.client_id)
    bystander = await register_client(name="Bystander")
    auditor = await register_client(name="Gateway", introspect_any=True)
    tokens = await _tokens(server, rp)
    access = tokens["access_token"]
    for caller in (rp, resource_server, auditor):
        body = await _introspect(client, caller, access)
        assert body["active"] is True, caller
        assert body["username"] == "ada"
    assert await _introspect(client, bystander, access) == {"active": False}
    # A token without an audience of its own (aud = its client) is the client's alone.
    plain = (await _tokens(server, bystander))["access_token"]
    assert await _introspect(client, rp, plain) == {"active": False}
    assert await _introspect(client, resource_server, plain) == {"active": False}
    assert (await _introspect(client, auditor, plain))["active"] is True
    # Refresh tokens stay between a client and the provider, introspect_any or not.
    assert await _introspect(client, auditor, tokens["refresh_token"]) == {"active": False}


async def test_refresh_token_is_active_only_for_its_client(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    rp = await register_client()
    other = await register_client(name="Other App")
    tokens = await _tokens(server, rp)
    body = await _introspect(client, rp, tokens["refresh_token"], token_type_hint="refresh_token")
    assert body["active"] is True
    assert body["client_id"] == rp.client_id
    assert body["sub"] == user["id"]
    assert body["scope"] == OFFLINE
    assert body["iss"] == server.url
    assert body["exp"] > body["iat"]
    # RFC 7662 §2.2: nothing is revealed about another client's refresh token.
    assert await _introspect(client, other, tokens["refresh_token"]) == {"active": False}
    # A used (rotated) refresh token is no longer active.
    rotated = await refresh(client, rp, tokens["refresh_token"])
    assert rotated.status_code == 200
    assert await _introspect(client, rp, tokens["refresh_token"]) == {"active": False}
    assert (await _introspect(client, rp, rotated.json()["refresh_token"]))["active"] is True


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "x" * 43,
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "x" * 5000,
    ],
)
async def test_unknown_token_is_inactive(
    server: Server, client: httpx.AsyncClient, token: str
) -> None:
    rp = await register_client()
    assert await _introspect(client, rp, token) == {"active": False}


async def test_tokens_are_inactive_after_logout(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope=OFFLINE)
        assert (await _introspect(client, rp, tokens["access_token"]))["active"] is True
        response = await sign_out(browser, id_token_hint=tokens["id_token"])
        assert response.status_code == 200
    assert await _introspect(client, rp, tokens["access_token"]) == {"active": False}
    assert await _introspect(client, rp, tokens["refresh_token"]) == {"active": False}


# --- Revocation ------------------------------------------------------------------------------


async def test_revoking_a_refresh_token_ends_its_family(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    tokens = await _tokens(server, rp)
    rotated = await refresh(client, rp, tokens["refresh_token"])
    assert rotated.status_code == 200
    newest = rotated.json()["refresh_token"]
    response = await client.post(
        "/revoke", data={"token": newest, "token_type_hint": "refresh_token"}, auth=rp.basic()
    )
    assert response.status_code == 200
    assert response.content == b""
    for token in (newest, tokens["refresh_token"]):
        refused = await refresh(client, rp, token)
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_grant"
    family = await RefreshToken.filter(client_id=rp.client_id)
    assert len(family) == 2
    assert all(row.revoked_at is not None for row in family)
    assert await _introspect(client, rp, newest) == {"active": False}
    assert await AuditEvent.filter(event="token.revoked", client_id=rp.client_id).count() == 1


async def test_revoking_another_clients_token_does_nothing(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    other = await register_client(name="Other App")
    tokens = await _tokens(server, rp)
    for token in (tokens["refresh_token"], tokens["access_token"]):
        response = await client.post("/revoke", data={"token": token}, auth=other.basic())
        # RFC 7009 §2.1: the token was not issued to this client; the answer reveals nothing.
        assert response.status_code == 200
    row = await RefreshToken.get(token_hash=token_hash(tokens["refresh_token"]))
    assert row.revoked_at is None
    assert (await client.get("/userinfo", headers=bearer(tokens["access_token"]))).is_success
    assert (await refresh(client, rp, tokens["refresh_token"])).status_code == 200


async def test_revoking_an_access_token(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    tokens = await _tokens(server, rp)
    response = await client.post(
        "/revoke",
        data={"token": tokens["access_token"], "token_type_hint": "access_token"},
        auth=rp.basic(),
    )
    assert response.status_code == 200
    refused = await client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert await _introspect(client, rp, tokens["access_token"]) == {"active": False}
    # The refresh token of the grant is untouched.
    assert (await refresh(client, rp, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize("token", ["unknown", "x" * 43, "a.b.c"])
async def test_revoking_an_unknown_token_is_ok(
    server: Server, client: httpx.AsyncClient, token: str
) -> None:
    rp = await register_client()
    response = await client.post("/revoke", data={"token": token}, auth=rp.basic())
    assert response.status_code == 200


async def test_revocation_needs_client_authentication(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    tokens = await _tokens(server, rp)
    for attempt in (
        await client.post("/revoke", data={"token": tokens["refresh_token"]}),
        await client.post(
            "/revoke",
            data={"token": tokens["refresh_token"]},
            auth=httpx.BasicAuth(rp.client_id, "wrong"),
        ),
        await client.post(
            "/revoke", data={"token": tokens["refresh_token"], "client_id": rp.client_id}
        ),
    ):
        assert attempt.status_code == 401
        assert attempt.json()["error"] == "invalid_client"
    row = await RefreshToken.get(token_hash=token_hash(tokens["refresh_token"]))
    assert row.revoked_at is None


async def test_public_client_revokes_its_own_token(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client(public=True)
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(
            browser, rp, EMAIL, PASSWORD, auth="none", scope=OFFLINE
        )
    response = await client.post(
        "/revoke", data={"token": tokens["refresh_token"], "client_id": rp.client_id}
    )
    assert response.status_code == 200
    row = await RefreshToken.get(token_hash=token_hash(tokens["refresh_token"]))
    assert row.revoked_at is not None
