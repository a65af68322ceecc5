"""Admin API for clients: registration rules, updates, secret rotation with grace, removal."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
from provider.storage.models import AuditEvent, Client, RefreshToken
from provider.storage.unit_of_work import utcnow
from tests.admin_support import admin
from tests.oidc import LOGOUT_URI, REDIRECT_URI, Browser, RegisteredClient, sign_in_for_tokens
from tests.support import PASSWORD, Server, assert_error, register

CLIENTS = "/v1/admin/clients"
SERVICE = {"name": "Billing job", "grant_types": ["client_credentials"], "scopes": []}
WEB_APP = {
    "name": "Example App",
    "redirect_uris": [REDIRECT_URI],
    "post_logout_redirect_uris": [LOGOUT_URI],
    "grant_types": ["authorization_code", "refresh_token"],
    "scopes": ["openid", "profile", "email", "offline_access"],
}


async def _create(
    http: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(CLIENTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


async def test_create_list_and_read(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    created = await _create(client, headers, WEB_APP)
    secret = created["client_secret"]
    view = created["client"]
    assert isinstance(secret, str)
    assert len(secret) >= 40
    assert view["token_endpoint_auth_method"] == "client_secret_basic"
    assert view["redirect_uris"] == [REDIRECT_URI]
    assert "secret_hash" not in view
    assert secret not in str(view)
    public = await _create(
        client, headers, {**WEB_APP, "name": "SPA", "public": True, "scopes": ["openid"]}
    )
    assert public["client_secret"] is None
    assert public["client"]["token_endpoint_auth_method"] == "none"

    listed = (await client.get(CLIENTS, headers=headers)).json()
    assert [c["name"] for c in listed["clients"]] == ["Example App", "SPA"]
    first = await client.get(CLIENTS, params={"limit": "1"}, headers=headers)
    second = await client.get(
        CLIENTS, params={"limit": "1", "cursor": first.json()["next_cursor"]}, headers=headers
    )
    assert [c["name"] for c in second.json()["clients"]] == ["SPA"]
    assert second.json()["next_cursor"] is None
    one = await client.get(f"{CLIENTS}/{view['client_id']}", headers=headers)
    assert one.json()["client"] == view
    row = await AuditEvent.get(event="admin.client_created", client_id=view["client_id"])
    assert row.details["name"] == "Example App"
    assert "admin_id" in row.details


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**WEB_APP, "redirect_uris": ["http://evil.example.com/cb"]}, "invalid_client_metadata"),
        (
            {**WEB_APP, "redirect_uris": ["https://app.example.com/cb#frag"]},
            "invalid_client_metadata",
        ),
        ({**WEB_APP, "redirect_uris": ["javascript:alert(1)"]}, "invalid_client_metadata"),
        ({**WEB_APP, "redirect_uris": []}, "invalid_client_metadata"),
        ({**WEB_APP, "scopes": ["openid", "read write"]}, "invalid_client_metadata"),
        ({**SERVICE, "public": True}, "invalid_client_metadata"),
        ({**WEB_APP, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({**WEB_APP, "name": "   "}, "invalid_client_metadata"),
        ({**WEB_APP, "grant_types": ["password"]}, "invalid_request"),
        ({**WEB_APP, "secret": "mine"}, "invalid_request"),
        ({**WEB_APP, "redirect_uris": "https://app.example.com/cb"}, "invalid_request"),
        ({**WEB_APP, "public": "false"}, "invalid_request"),
        ({"grant_types": ["client_credentials"]}, "invalid_request"),
    ],
)
async def test_registration_follows_the_cli_rules(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    headers = await admin(client)
    assert_error(await client.post(CLIENTS, json=body, headers=headers), 400, code)
    # No client was registered (the built-in first-party app's row is the login's).
    assert await Client.exclude(id=FIRST_PARTY_CLIENT_ID).count() == 0


async def test_update_is_validated_and_audited(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    view = (await _create(client, headers, WEB_APP))["client"]
    path = f"{CLIENTS}/{view['client_id']}"
    response = await client.patch(
        path,
        json={
            "name": "Renamed",
            "redirect_uris": ["https://app.example.com/callback"],
            "first_party": True,
            "audience": "https://api.example.com",
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()["client"]
    assert updated["name"] == "Renamed"
    assert updated["redirect_uris"] == ["https://app.example.com/callback"]
    assert updated["first_party"] is True
    assert updated["audience"] == "https://api.example.com"
    row = await AuditEvent.get(event="admin.client_updated")
    assert row.details["fields"] == ["audience", "first_party", "name", "redirect_uris"]

    for bad, code in [
        ({"redirect_uris": ["http://evil.example.com/"]}, "invalid_client_metadata"),
        ({"redirect_uris": []}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials", "implicit"]}, "invalid_request"),
        ({"public": True}, "invalid_request"),
        ({"token_endpoint_auth_method": "none"}, "invalid_request"),
        ({}, "invalid_request"),
    ]:
        assert_error(await client.patch(path, json=bad, headers=headers), 400, code)
    stored = await Client.get(id=view["client_id"])
    assert stored.redirect_uris == ["https://app.example.com/callback"]
    assert_error(await client.patch(f"{CLIENTS}/nope", json={"name": "x"}, headers=headers), 404)


async def test_rotation_keeps_the_old_secret_for_the_grace_period(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    created = await _create(client, headers, SERVICE)
    client_id, old = created["client"]["client_id"], created["client_secret"]
    assert (await _token(client, client_id, old)).status_code == 200

    response = await client.post(
        f"{CLIENTS}/{client_id}/rotate-secret", json={"grace_seconds": 2}, headers=headers
    )
    assert response.status_code == 200, response.text
    rotated = response.json()
    new = rotated["client_secret"]
    assert new != old
    assert rotated["grace_seconds"] == 2
    assert (await _token(client, client_id, old)).status_code == 200
    assert (await _token(client, client_id, new)).status_code == 200
    await asyncio.sleep(2.5)
    assert_old = await _token(client, client_id, old)
    assert assert_old.status_code == 401
    assert assert_old.json()["error"] == "invalid_client"
    assert (await _token(client, client_id, new)).status_code == 200
    row = await AuditEvent.get(event="admin.client_secret_rotated")
    assert row.details["grace_seconds"] == 2
    assert new not in str(row.details)


async def test_rotation_defaults_to_the_configured_grace_and_zero_ends_it_at_once(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    created = await _create(client, headers, SERVICE)
    client_id, old = created["client"]["client_id"], created["client_secret"]
    response = await client.post(f"{CLIENTS}/{client_id}/rotate-secret", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["grace_seconds"] == 3600
    expires = datetime.fromisoformat(response.json()["previous_secret_expires_at"])
    assert timedelta(seconds=3590) < expires - utcnow() <= timedelta(seconds=3600)
    assert (await _token(client, client_id, old)).status_code == 200

    # Moving the end of the grace into the past retires the old secret.
    await Client.filter(id=client_id).update(previous_secret_expires_at=utcnow())
    second = response.json()["client_secret"]
    assert (await _token(client, client_id, old)).status_code == 401
    assert (await _token(client, client_id, second)).status_code == 200

    response = await client.post(
        f"{CLIENTS}/{client_id}/rotate-secret", json={"grace_seconds": 0}, headers=headers
    )
    assert (await _token(client, client_id, second)).status_code == 401
    assert (await _token(client, client_id, response.json()["client_secret"])).status_code == 200
    for bad in ({"grace_seconds": -1}, {"grace_seconds": "60"}, {"grace": 60}):
        assert_error(
            await client.post(f"{CLIENTS}/{client_id}/rotate-secret", json=bad, headers=headers),
            400,
        )


async def test_a_public_client_has_no_secret_to_rotate(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    created = await _create(client, headers, {**WEB_APP, "public": True, "scopes": ["openid"]})
    path = f"{CLIENTS}/{created['client']['client_id']}/rotate-secret"
    assert_error(await client.post(path, headers=headers), 400)


async def test_a_private_key_jwt_client_gets_no_secret(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    jwks = {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            }
        ]
    }
    created = await _create(
        client,
        headers,
        {**SERVICE, "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks},
    )
    assert created["client_secret"] is None
    client_id = created["client"]["client_id"]
    assert (await Client.get(id=client_id)).secret_hash is None
    path = f"{CLIENTS}/{client_id}/rotate-secret"
    error = assert_error(await client.post(path, headers=headers), 400)
    assert "private_key_jwt" in error["message"]
    assert (await Client.get(id=client_id)).secret_hash is None
    assert await AuditEvent.filter(event="admin.client_secret_rotated").count() == 0


async def test_disable_and_delete(server: Server, client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    service = await _create(client, headers, SERVICE)
    service_id = service["client"]["client_id"]
    response = await client.post(f"{CLIENTS}/{service_id}/disable", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["client"]["disabled"] is True
    assert (await _token(client, service_id, service["client_secret"])).status_code == 401
    enabled = await client.patch(
        f"{CLIENTS}/{service_id}", json={"disabled": False}, headers=headers
    )
    assert enabled.json()["client"]["disabled"] is False
    assert (await _token(client, service_id, service["client_secret"])).status_code == 200

    app = await _create(client, headers, WEB_APP)
    rp = RegisteredClient(app["client"]["client_id"], app["client_secret"])
    await register(client, "bob@example.com")
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(
            browser, rp, "bob@example.com", PASSWORD, scope="openid offline_access"
        )
    assert tokens["refresh_token"]
    response = await client.delete(f"{CLIENTS}/{rp.client_id}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": True, "refresh_tokens_revoked": 1}
    assert_error(await client.get(f"{CLIENTS}/{rp.client_id}", headers=headers), 404)
    assert await RefreshToken.filter(client_id=rp.client_id, revoked_at=None).count() == 0
    assert await AuditEvent.filter(event="admin.client_deleted", client_id=rp.client_id).exists()
    assert await AuditEvent.filter(event="admin.client_disabled", client_id=service_id).exists()
    assert_error(await client.delete(f"{CLIENTS}/{rp.client_id}", headers=headers), 404)


async def test_introspect_any_is_set_and_changed_through_the_admin_api(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = await admin(client)
    created = await client.post(
        "/v1/admin/clients",
        json={
            "name": "Gateway",
            "grant_types": ["client_credentials"],
            "introspect_any": True,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    view = created.json()["client"]
    assert view["introspect_any"] is True
    assert (await Client.get(id=view["client_id"])).introspect_any is True
    patched = await client.patch(
        f"/v1/admin/clients/{view['client_id']}", json={"introspect_any": False}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["client"]["introspect_any"] is False
    public = await client.post(
        "/v1/admin/clients",
        json={
            "name": "SPA",
            "public": True,
            "redirect_uris": ["https://spa.example/cb"],
            "introspect_any": True,
        },
        headers=headers,
    )
    assert public.status_code == 400, public.text
