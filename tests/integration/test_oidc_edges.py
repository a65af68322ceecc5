"""API scopes for client_credentials, and a client whose signing key disappeared."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from provider.crypto.keys import write_key
from provider.oauth.clients import ClientSpec, ClientSpecError, validate_spec
from provider.storage.models import Client, RefreshToken
from tests.oidc import Browser, register_client, sign_in_and_get_code
from tests.support import PASSWORD, Server, register

ISSUER = "https://id.example"


def test_scopes_must_be_rfc6749_scope_tokens() -> None:
    base = {
        "name": "x",
        "redirect_uris": [],
        "post_logout_redirect_uris": [],
        "grant_types": ["client_credentials"],
    }
    assert validate_spec(ClientSpec(**base, scopes=["orders.read", "urn:example:write"]), ISSUER)
    for bad in ("two words", 'quo"te', "back\\slash", ""):
        with pytest.raises(ClientSpecError):
            validate_spec(ClientSpec(**base, scopes=[bad]), ISSUER)


async def test_client_credentials_with_api_scopes(
    server: Server, client: httpx.AsyncClient
) -> None:
    service = await register_client(
        redirect_uris=[], grant_types=["client_credentials"], scopes=["orders.read", "orders.write"]
    )
    granted = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "orders.read"},
        auth=service.basic(),
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["scope"] == "orders.read"
    jwks = KeySet.import_key_set((await client.get("/jwks")).json())
    claims = jwt.decode(granted.json()["access_token"], jwks).claims
    assert claims["scope"] == "orders.read"
    assert claims["sub"] == service.client_id
    refused = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "orders.delete"},
        auth=service.basic(),
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


async def test_removed_signing_key_is_a_server_error_that_consumes_nothing(
    server_with,
    tmp_path_factory: pytest.TempPathFactory,  # type: ignore[no-untyped-def]
) -> None:
    keys_dir: Path = tmp_path_factory.mktemp("keys-removed")
    write_key(keys_dir, "RS256", active_from=time.time())
    es256 = write_key(keys_dir, "ES256", active_from=time.time())
    server: Server = await server_with(keys_dir=str(keys_dir))
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http)
        rp = await register_client(scopes=["openid", "offline_access"])
        await Client.filter(id=rp.client_id).update(access_token_signed_response_alg="ES256")
        result, _ = await sign_in_and_get_code(
            Browser(http), rp, "ada@example.com", PASSWORD, scope="openid offline_access"
        )
        first = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": result["code"],
                "redirect_uri": rp.redirect_uri,
            },
            auth=rp.basic(),
        )
        assert first.status_code == 200, first.text
        refresh_token = first.json()["refresh_token"]

        es256.path.unlink()
        for _ in range(50):  # workers reload keys every PROVIDER_KEYS_RELOAD_INTERVAL (1 s)
            if "ES256" not in (await http.get("/.well-known/openid-configuration")).text:
                break
            await asyncio.sleep(0.2)
        failed = await http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=rp.basic(),
        )
        assert failed.status_code == 500
        assert failed.json()["error"] == "server_error"
        assert "Traceback" not in failed.text
        # The refresh token was not consumed, so the client's retry is not taken for theft.
        assert await RefreshToken.filter(used_at__isnull=False).count() == 0
        assert await RefreshToken.filter(revoked_at__isnull=False).count() == 0


async def test_disabling_a_client_refuses_the_access_tokens_it_holds(
    server: Server, client: httpx.AsyncClient
) -> None:
    from tests.admin_support import admin

    headers = await admin(client)
    resource = await register_client(
        name="API", redirect_uris=[], grant_types=["client_credentials"], scopes=[]
    )
    # The service's tokens name the resource server, which may therefore introspect them.
    service = await register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["orders.read"],
        audience=resource.client_id,
    )
    issued = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=service.basic()
    )
    token = issued.json()["access_token"]

    async def active() -> bool:
        response = await client.post("/introspect", data={"token": token}, auth=resource.basic())
        return bool(response.json()["active"])

    assert await active()
    disabled = await client.post(f"/v1/admin/clients/{service.client_id}/disable", headers=headers)
    assert disabled.status_code == 200
    assert not await active()
    enabled = await client.patch(
        f"/v1/admin/clients/{service.client_id}", json={"disabled": False}, headers=headers
    )
    assert enabled.status_code == 200
    await asyncio.sleep(1.1)  # iat has whole seconds; tokens from after the re-enabling count
    fresh = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=service.basic()
    )
    token = fresh.json()["access_token"]
    assert await active()


async def test_id_token_states_the_authentication_the_code_was_issued_under(
    server: Server, client: httpx.AsyncClient
) -> None:
    from provider.storage.models import Session

    await register(client)
    rp = await register_client()
    async with httpx.AsyncClient(base_url=server.url) as http:
        result, _ = await sign_in_and_get_code(Browser(http), rp, "ada@example.com", PASSWORD)
    session = await Session.get()
    stepped_up = session.auth_time.replace(year=session.auth_time.year + 1)
    await Session.filter(id=session.id).update(
        amr=["pwd", "otp", "mfa"], acr="urn:provider:acr:mfa", auth_time=stepped_up
    )
    token = await client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": rp.redirect_uri,
        },
        auth=rp.basic(),
    )
    assert token.status_code == 200, token.text
    jwks = KeySet.import_key_set((await client.get("/jwks")).json())
    claims = jwt.decode(token.json()["id_token"], jwks).claims
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == "1"
    assert claims["auth_time"] == int(session.auth_time.timestamp())


async def test_disabling_a_client_by_patch_refuses_its_access_tokens(
    server: Server, client: httpx.AsyncClient
) -> None:
    from tests.admin_support import admin

    headers = await admin(client)
    resource = await register_client(
        name="API", redirect_uris=[], grant_types=["client_credentials"], scopes=[]
    )
    # The service's tokens name the resource server, which may therefore introspect them.
    service = await register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["orders.read"],
        audience=resource.client_id,
    )
    issued = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=service.basic()
    )
    token = issued.json()["access_token"]
    patched = await client.patch(
        f"/v1/admin/clients/{service.client_id}", json={"disabled": True}, headers=headers
    )
    assert patched.status_code == 200
    response = await client.post("/introspect", data={"token": token}, auth=resource.basic())
    assert response.json() == {"active": False}
