"""The audience rule: a relying party's access token never reaches the account or admin APIs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from provider.app import create_app
from provider.config import Settings
from provider.crypto.keys import Keystore
from provider.sessions.access_tokens import AccessGrant, mint_access_token
from provider.storage.models import Session, User
from tests.admin_support import admin
from tests.oidc import Browser, decode_jwt, key_set, register_client, sign_in_for_tokens
from tests.support import PASSWORD, Server, bearer, login, register

EMAIL = "ada@example.com"
_PARAM = re.compile(r"<[^>]+>")


def _api_routes() -> list[tuple[str, str]]:
    """Every (method, path) under /v1 in the app's route table, parameters filled in: a new
    route is covered without editing this test."""
    app = create_app(Settings(), name="route_table")
    app.router.finalize()
    routes = []
    for route in app.router.routes:
        if not route.path.startswith(("v1/auth", "v1/admin")):
            continue
        path = "/" + _PARAM.sub("00000000-0000-0000-0000-000000000000", route.path)
        routes.extend((method, path) for method in sorted(route.methods) if method != "HEAD")
    assert len(routes) > 30, routes
    return routes


API_ROUTES = _api_routes()
# Routes that answer anyone: starting a passkey sign-in needs no account yet (the options name no
# user when the body names none). A bearer token must still change nothing there.
ANSWERS_ANYONE = {("POST", "/v1/auth/passkeys/authentication/options")}


async def _third_party_token(server: Server, client: httpx.AsyncClient, **spec: Any) -> str:
    """An ordinary code flow for scope `openid` by an admin user: the token such an app holds."""
    rp = await register_client(**spec)
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope="openid")
    token: str = body["access_token"]
    return token


async def _call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = None if method in ("GET", "DELETE") else {}
    return await client.request(method, path, json=body, headers=headers)


async def test_a_relying_partys_token_is_refused_on_every_account_and_admin_route(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client, email=EMAIL)
    await User.filter(id=user["id"]).update(role="admin")
    tokens = {
        "third party": await _third_party_token(server, client),
        # first_party on an OAuth client only skips consent: still no account API.
        "first_party client": await _third_party_token(server, client, first_party=True),
    }
    protected = []
    for method, path in API_ROUTES:
        anonymous = await _call(client, method, path, {})
        for kind, token in tokens.items():
            response = await _call(client, method, path, {"Authorization": f"Bearer {token}"})
            # A bearer token of an OAuth client is worth nothing here: same answer as none.
            assert response.status_code == anonymous.status_code, (kind, method, path)
            if (method, path) not in ANSWERS_ANYONE:
                assert response.status_code not in range(200, 300), (kind, method, path)
        if anonymous.status_code == 401:
            protected.append((method, path))
    assert ("GET", "/v1/auth/me") in protected
    assert ("POST", "/v1/auth/mfa/totp") in protected
    assert ("POST", "/v1/admin/clients") in protected
    assert all((m, p) in protected for m, p in API_ROUTES if p.startswith("/v1/admin"))


async def test_first_party_tokens_still_reach_the_apis(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = await admin(client)
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 200
    assert (await client.get("/v1/admin/users", headers=headers)).status_code == 200
    _, claims = decode_jwt(headers["Authorization"].split(" ", 1)[1], await key_set(client))
    assert claims["aud"] == server.url + "/v1"
    assert claims["client_id"] == "first-party"


async def test_oauth_access_tokens_default_to_the_clients_own_audience(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client, email=EMAIL)
    rp = await register_client()
    keys = await key_set(client)
    _, claims = decode_jwt(await _third_party_token_for(server, rp), keys)
    assert claims["aud"] == rp.client_id
    assert claims["aud"] not in (server.url, server.url + "/v1")
    api = await register_client(audience="https://orders.example/api")
    _, claims = decode_jwt(await _third_party_token_for(server, api), keys)
    assert claims["aud"] == "https://orders.example/api"


async def _third_party_token_for(server: Server, rp: Any) -> str:
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope="openid")
    token: str = body["access_token"]
    return token


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/admin", "/anything"])
async def test_the_providers_own_audiences_cannot_be_registered(
    server: Server, client: httpx.AsyncClient, suffix: str
) -> None:
    headers = await admin(client)
    spec = {
        "name": "Sneaky",
        "redirect_uris": ["https://rp.example/cb"],
        "grant_types": ["authorization_code"],
    }
    created = await client.post(
        "/v1/admin/clients", json={**spec, "audience": server.url + suffix}, headers=headers
    )
    assert created.status_code == 400, created.text
    assert created.json()["error"]["code"] == "invalid_client_metadata"
    fine = await client.post(
        "/v1/admin/clients", json={**spec, "audience": "https://orders.example"}, headers=headers
    )
    assert fine.status_code == 201, fine.text
    client_id = fine.json()["client"]["client_id"]
    patched = await client.patch(
        f"/v1/admin/clients/{client_id}",
        json={"audience": server.url.upper() + "/v1"},
        headers=headers,
    )
    assert patched.status_code == 400, patched.text
    current = await client.get(f"/v1/admin/clients/{client_id}", headers=headers)
    assert current.json()["client"]["audience"] == "https://orders.example"


async def test_a_token_minted_for_the_issuer_audience_no_longer_works(
    server: Server, client: httpx.AsyncClient, keys_dir: Path
) -> None:
    """First-party tokens from before the change (aud == issuer) are refused; the refresh token
    they came with still gets a new pair that works."""
    await register(client, email=EMAIL)
    tokens = await login(client, EMAIL, PASSWORD)
    assert (await client.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
    session = await Session.get(id=tokens["session"]["id"])
    keystore = Keystore(keys_dir, 600)
    old = mint_access_token(
        keystore,
        server.url,
        600,
        AccessGrant(str(session.user_id), "first-party", "", str(session.id), None, server.url),
    ).value
    refused = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {old}"})
    assert refused.status_code == 401
    renewed = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert renewed.status_code == 200, renewed.text
    assert (await client.get("/v1/auth/me", headers=bearer(renewed.json()))).status_code == 200
