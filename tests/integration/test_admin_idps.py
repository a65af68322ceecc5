"""/v1/admin/idps: presets and full configurations, the sealed secret never shown, the rules
of a valid provider, auditors read only, every change audited, removal takes the links."""

from __future__ import annotations

import httpx

from provider.config import DEV_SECRET_KEY
from provider.crypto.sealing import unseal
from provider.federation.providers import SEALING_PURPOSE
from provider.storage.models import AuditEvent, FederatedIdentity, IdentityProvider, User
from provider.storage.unit_of_work import utcnow
from tests.admin_support import admin, auditor
from tests.support import assert_error, register


async def test_a_preset_with_a_secret_that_is_sealed_and_never_shown(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    created = await client.post(
        "/v1/admin/idps",
        json={"preset": "google", "client_id": "gid", "client_secret": "gsecret"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    idp = created.json()["idp"]
    assert idp["slug"] == "google"
    assert idp["kind"] == "oidc"
    assert idp["issuer"] == "https://accounts.google.com"
    assert idp["scopes"] == ["openid", "email", "profile"]
    assert idp["has_client_secret"] is True
    assert idp["offered"] is True
    assert "gsecret" not in created.text
    row = await IdentityProvider.get(slug="google")
    assert "gsecret" not in row.client_secret_sealed
    opened = unseal(
        DEV_SECRET_KEY.encode(), row.client_secret_sealed, purpose=SEALING_PURPOSE, context="google"
    )
    assert opened == "gsecret"
    listed = await client.get("/v1/admin/idps", headers=headers)
    assert [item["slug"] for item in listed.json()["idps"]] == ["google"]
    assert "gsecret" not in listed.text
    audit = await AuditEvent.get(event="idp.created")
    assert audit.details["idp"] == "google"
    assert "gsecret" not in str(audit.details)


async def test_a_full_oauth2_provider_and_its_update(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    body = {
        "slug": "forge",
        "name": "Forge",
        "kind": "oauth2",
        "authorize_url": "https://forge.example/oauth/authorize",
        "token_url": "https://forge.example/oauth/token",
        "userinfo_url": "https://forge.example/api/user",
        "claims": {"sub": "id", "email": "mail", "email_verified": "mail_ok", "name": "login"},
        "scopes": ["user"],
    }
    created = await client.post("/v1/admin/idps", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["idp"]["offered"] is False  # no client id yet
    patched = await client.patch(
        "/v1/admin/idps/forge",
        json={"client_id": "fid", "allow_signup": True, "name": "The Forge"},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    idp = patched.json()["idp"]
    assert (idp["name"], idp["client_id"], idp["allow_signup"], idp["offered"]) == (
        "The Forge",
        "fid",
        True,
        True,
    )
    assert idp["token_url"] == body["token_url"]
    updated = await AuditEvent.get(event="idp.updated")
    assert updated.details["fields"] == ["allow_signup", "client_id", "name"]


async def test_invalid_providers_are_refused_with_reasons(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    refused = await client.post(
        "/v1/admin/idps",
        json={"slug": "Bad Slug", "name": "x", "kind": "oidc", "scopes": ["email"]},
        headers=headers,
    )
    error = assert_error(refused, 422, "validation_failed")
    assert set(error["details"]) == {"slug", "issuer", "scopes"}
    await client.post("/v1/admin/idps", json={"preset": "github"}, headers=headers)
    taken = await client.post("/v1/admin/idps", json={"preset": "github"}, headers=headers)
    assert_error(taken, 409, "idp_exists")
    bad_patch = await client.patch(
        "/v1/admin/idps/github", json={"claims": {"email": "email"}}, headers=headers
    )
    assert_error(bad_patch, 422, "validation_failed")
    unknown = await client.patch("/v1/admin/idps/nope", json={"name": "x"}, headers=headers)
    assert_error(unknown, 404, "not_found")
    extra = await client.post("/v1/admin/idps", json={"preset": "gitlab", "x": 1}, headers=headers)
    assert_error(extra, 400)
    assert await IdentityProvider.all().count() == 1


async def test_auditors_read_and_users_do_not(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    await client.post("/v1/admin/idps", json={"preset": "microsoft"}, headers=headers)
    reader = await auditor(client)
    assert (await client.get("/v1/admin/idps/microsoft", headers=reader)).status_code == 200
    refused = await client.delete("/v1/admin/idps/microsoft", headers=reader)
    assert_error(refused, 403, "forbidden")
    assert await IdentityProvider.exists(slug="microsoft")


async def test_removing_a_provider_removes_its_links(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    await client.post("/v1/admin/idps", json={"preset": "gitlab"}, headers=headers)
    user = await register(client, email="linked@example.com")
    await FederatedIdentity.create(
        provider_id="gitlab", subject="1", user_id=user["id"], linked_at=utcnow()
    )
    removed = await client.delete("/v1/admin/idps/gitlab", headers=headers)
    assert removed.status_code == 200
    assert removed.json() == {"deleted": True}
    assert await FederatedIdentity.all().count() == 0
    assert await User.exists(id=user["id"])
    assert_error(await client.get("/v1/admin/idps/gitlab", headers=headers), 404, "not_found")
    assert (await AuditEvent.get(event="idp.deleted")).details["idp"] == "gitlab"


async def test_the_openapi_document_describes_the_idps_api(client: httpx.AsyncClient) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/v1/admin/idps"]) == {"get", "post"}
    assert set(paths["/v1/admin/idps/{slug}"]) == {"get", "patch", "delete"}
    create = paths["/v1/admin/idps"]["post"]
    assert create["tags"] == ["admin"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"preset", "client_id", "client_secret", "allow_signup", "trust_email"} <= set(
        schema["properties"]
    )
    assert {"201", "409", "422"} <= set(create["responses"])
