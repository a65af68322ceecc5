"""The first-party app is a registered client: written at start, issued to by the /token code,
refused by the OAuth endpoints, and out of the admins' reach."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
from provider.storage.models import AuditEvent, Client, RefreshToken
from tests.admin_support import admin
from tests.oidc import (
    REDIRECT_URI,
    Browser,
    RegisteredClient,
    auth_params,
    decode_jwt,
    hidden_fields,
    key_set,
    register_client,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, assert_error, bearer, login, register

CLIENTS = "/v1/admin/clients"
REFRESH = "/v1/auth/tokens/refresh"
APP = RegisteredClient(FIRST_PARTY_CLIENT_ID, None)


async def test_the_row_exists_once_the_server_has_started(server_with) -> None:  # type: ignore[no-untyped-def]
    await Client.filter(id=FIRST_PARTY_CLIENT_ID).delete()  # as on a fresh database
    assert await Client.get_or_none(id=FIRST_PARTY_CLIENT_ID) is None
    server: Server = await server_with(tag="first-party-row")
    row = await Client.get(id=FIRST_PARTY_CLIENT_ID)
    assert row.first_party is True
    assert row.audience == server.url + "/v1"
    assert row.public is True
    assert row.token_endpoint_auth_method == "none"
    assert row.secret_hash is None
    assert (row.redirect_uris, row.post_logout_redirect_uris) == ([], [])
    assert (row.grant_types, row.scopes) == ([], [])
    assert row.disabled is False


async def test_api_and_token_endpoint_tokens_have_the_same_shape(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    keys = await key_set(client)
    api_header, api_claims = decode_jwt((await login(client))["access_token"], keys)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, "ada@example.com", PASSWORD)
    oauth_header, oauth_claims = decode_jwt(body["access_token"], keys)

    assert api_header == oauth_header
    assert api_header["typ"] == "at+jwt"
    # One minting function: the claims differ only by the scope a first-party token lacks.
    assert set(api_claims) == set(oauth_claims) - {"scope"}
    assert set(api_claims) == {"iss", "sub", "aud", "client_id", "iat", "exp", "jti", "sid"} | {
        "auth_time"
    }
    assert api_claims["exp"] - api_claims["iat"] == oauth_claims["exp"] - oauth_claims["iat"]
    assert (api_claims["sub"], api_claims["iss"]) == (user["id"], oauth_claims["iss"])
    assert (api_claims["client_id"], api_claims["aud"]) == (
        FIRST_PARTY_CLIENT_ID,
        server.url + "/v1",
    )
    assert (oauth_claims["client_id"], oauth_claims["aud"]) == (rp.client_id, rp.client_id)


async def test_the_token_endpoint_refuses_the_first_party_app(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await login(client)
    for data in (
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI},
        {"grant_type": "client_credentials"},
    ):
        response = await client.post("/token", data={**data, "client_id": FIRST_PARTY_CLIENT_ID})
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        assert "access_token" not in response.text
    for endpoint in ("/introspect", "/revoke"):
        response = await client.post(
            endpoint, data={"token": tokens["refresh_token"], "client_id": FIRST_PARTY_CLIENT_ID}
        )
        assert response.status_code == 401, (endpoint, response.text)
        assert response.json()["error"] == "invalid_client"
    # Nothing was used up or revoked: the app's own refresh still works.
    row = await RefreshToken.get(session_id=tokens["session"]["id"])
    assert (row.used_at, row.revoked_at) == (None, None)
    assert (
        await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 200


async def test_authorize_refuses_the_first_party_app(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    await login(client)  # the row exists
    for redirect_uri in (REDIRECT_URI, server.url + "/v1"):
        params = auth_params(RegisteredClient(FIRST_PARTY_CLIENT_ID, None, redirect_uri))
        response = await client.get("/authorize?" + urlencode(params))
        assert response.status_code == 400, response.text[:300]
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")
        assert "This application is not known to us." in response.text


async def test_first_party_tokens_are_no_userinfo_tokens(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.get("/userinfo", headers=bearer(await login(client)))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_admins_can_neither_change_nor_remove_the_first_party_app(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = await admin(client)
    tokens = await login(client, "root@example.com")
    before = await Client.get(id=FIRST_PARTY_CLIENT_ID)
    path = f"{CLIENTS}/{FIRST_PARTY_CLIENT_ID}"
    for method, url, body in (
        ("PATCH", path, {"name": "Renamed"}),
        ("PATCH", path, {"disabled": True}),
        ("PATCH", path, {"redirect_uris": [REDIRECT_URI]}),
        ("POST", path + "/disable", None),
        ("POST", path + "/rotate-secret", None),
        ("DELETE", path, None),
    ):
        response = await client.request(method, url, json=body, headers=headers)
        error = assert_error(response, 409, "built_in_client")
        assert "built in" in error["message"], (method, url)

    after = await Client.get(id=FIRST_PARTY_CLIENT_ID)
    assert (after.name, after.disabled, after.redirect_uris) == (before.name, False, [])
    assert after.updated_at == before.updated_at
    assert await AuditEvent.filter(event__startswith="admin.client_").count() == 0
    # The API still works: a login, a refresh and a call with the new token.
    refreshed = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert (await client.get("/v1/auth/me", headers=bearer(refreshed.json()))).status_code == 200


async def test_the_first_party_app_is_not_shown_to_admins(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = await admin(client)
    rp = await register_client()
    listed = await client.get(CLIENTS, headers=headers)
    assert listed.status_code == 200
    assert [c["client_id"] for c in listed.json()["clients"]] == [rp.client_id]
    read = await client.get(f"{CLIENTS}/{FIRST_PARTY_CLIENT_ID}", headers=headers)
    assert_error(read, 404, "not_found")
    assert await Client.get_or_none(id=FIRST_PARTY_CLIENT_ID) is not None
    # Nor on the admin pages.
    page = await client.get("/login", params={"next": "/admin/clients"})
    form = {**hidden_fields(page.text), "identifier": "root@example.com", "password": PASSWORD}
    assert (await client.post("/login", data=form)).status_code == 303
    clients_page = await client.get("/admin/clients")
    assert clients_page.status_code == 200
    assert rp.client_id in clients_page.text
    assert FIRST_PARTY_CLIENT_ID not in clients_page.text


async def test_no_client_can_be_registered_as_the_first_party_app(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = await admin(client)
    for body in (
        {"name": "Impostor", "client_id": FIRST_PARTY_CLIENT_ID, "redirect_uris": [REDIRECT_URI]},
        {"name": "Impostor", "redirect_uris": [REDIRECT_URI], "audience": server.url + "/v1"},
    ):
        response = await client.post(CLIENTS, json=body, headers=headers)
        assert response.status_code == 400, response.text
    assert await Client.exclude(id=FIRST_PARTY_CLIENT_ID).count() == 0
    assert (await Client.get(id=FIRST_PARTY_CLIENT_ID)).name != "Impostor"
