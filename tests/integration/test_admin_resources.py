"""/v1/admin/resources: register, read, change and remove resource servers under the rules of
the core (RFC 8707 identifiers, never the provider's own audience); auditors read only; every
change audited."""

from __future__ import annotations

import httpx

from provider.storage.models import AuditEvent
from tests.admin_support import admin, auditor
from tests.oidc import register_client
from tests.support import Server, assert_error

API = "https://api.example.com/orders"


async def test_register_change_and_remove(server: Server, client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    rp = await register_client()
    created = await client.post(
        "/v1/admin/resources",
        json={"identifier": API, "name": "Orders", "scopes": ["orders.read"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    resource = created.json()["resource"]
    assert (resource["identifier"], resource["signing_alg"], resource["allowed_clients"]) == (
        API,
        "RS256",
        None,
    )
    path = f"/v1/admin/resources/{resource['id']}"

    changed = await client.patch(
        path,
        json={"allowed_clients": [rp.client_id], "signing_alg": "ES256", "access_token_ttl": 60},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["resource"]["allowed_clients"] == [rp.client_id]
    reopened = await client.patch(path, json={"allowed_clients": None}, headers=headers)
    assert reopened.json()["resource"]["allowed_clients"] is None
    assert reopened.json()["resource"]["signing_alg"] == "ES256"

    listed = await client.get("/v1/admin/resources", headers=await auditor(client))
    assert [r["identifier"] for r in listed.json()["resources"]] == [API]

    removed = await client.delete(path, headers=headers)
    assert removed.json() == {"deleted": True}
    assert_error(await client.get(path, headers=headers), 404, "not_found")
    events = await AuditEvent.filter(event__startswith="admin.resource_").order_by("id")
    assert [e.event for e in events] == [
        "admin.resource_created",
        "admin.resource_updated",
        "admin.resource_updated",
        "admin.resource_deleted",
    ]


async def test_the_rules_and_the_roles(server: Server, client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    own_api = {"identifier": server.url + "/v1", "name": "Mine"}
    refused = await client.post("/v1/admin/resources", json=own_api, headers=headers)
    error = assert_error(refused, 422, "validation_failed")
    assert list(error["details"]) == ["identifier"]
    fragment = {"identifier": API + "#x", "name": "Orders"}
    assert_error(
        await client.post("/v1/admin/resources", json=fragment, headers=headers),
        422,
        "validation_failed",
    )
    fine = {"identifier": API, "name": "Orders"}
    assert (await client.post("/v1/admin/resources", json=fine, headers=headers)).status_code == 201
    assert_error(
        await client.post("/v1/admin/resources", json=fine, headers=headers), 409, "resource_exists"
    )
    reader = await auditor(client)
    assert (await client.post("/v1/admin/resources", json=fine, headers=reader)).status_code == 403
    listed = (await client.get("/v1/admin/resources", headers=headers)).json()["resources"]
    fixed = await client.patch(
        f"/v1/admin/resources/{listed[0]['id']}", json={"identifier": "x"}, headers=headers
    )
    assert fixed.status_code == 400
    assert_error(await client.get("/v1/admin/resources/nope", headers=headers), 404, "not_found")
