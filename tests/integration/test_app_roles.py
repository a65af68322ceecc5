"""Roles and groups for the organisation's apps: defined by an admin, given to users directly or
through groups, released as `roles`/`groups` claims under the scopes of those names (filtered
per client), effective at the next token, announced as user.roles_changed."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis.asyncio as redis

from provider.storage.models import AppGroup, AppRole, AuditEvent, Client
from tests.admin_support import account, admin, auditor
from tests.oidc import (
    Browser,
    RegisteredClient,
    decode_jwt,
    key_set,
    refresh,
    register_client,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, assert_error

EMAIL = "ada@example.com"
SCOPES = ["openid", "profile", "email", "phone", "address", "roles", "groups", "offline_access"]


async def _setup(client: httpx.AsyncClient, root: dict[str, str]) -> None:
    for role in ("billing:admin", "billing:viewer", "wiki:editor"):
        created = await client.post("/v1/admin/app-roles", json={"name": role}, headers=root)
        assert created.status_code == 201, created.text
    group = await client.post(
        "/v1/admin/app-groups", json={"name": "staff", "description": "Staff"}, headers=root
    )
    assert group.status_code == 201, group.text
    carried = await client.put(
        "/v1/admin/app-groups/staff/roles", json={"roles": ["wiki:editor"]}, headers=root
    )
    assert carried.status_code == 200, carried.text


async def _tokens(server: Server, rp: RegisteredClient, scope: str) -> dict[str, Any]:
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope=scope)
    return body


async def _all_claims(
    client: httpx.AsyncClient, rp: RegisteredClient, body: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    keys = await key_set(client)
    _, access = decode_jwt(body["access_token"], keys)
    _, id_token = decode_jwt(body["id_token"], keys)
    userinfo = await client.get(
        "/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    introspected = await client.post(
        "/introspect", data={"token": body["access_token"]}, auth=rp.basic()
    )
    return {
        "access": access,
        "id": id_token,
        "userinfo": userinfo.json(),
        "introspection": introspected.json(),
    }


async def test_roles_and_groups_reach_every_token_under_their_scopes(
    server: Server, client: httpx.AsyncClient
) -> None:
    root = await admin(client)
    user = await account(client, EMAIL)
    await _setup(client, root)
    assigned = await client.put(
        f"/v1/admin/users/{user['id']}/app-access",
        json={"roles": ["billing:admin"], "groups": ["staff"]},
        headers=root,
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json() == {
        "roles": ["billing:admin"],
        "groups": ["staff"],
        "effective_roles": ["billing:admin", "wiki:editor"],
    }
    rp = await register_client(scopes=SCOPES)
    body = await _tokens(server, rp, "openid profile email phone address roles groups")
    for where, claims in (await _all_claims(client, rp, body)).items():
        assert claims["roles"] == ["billing:admin", "wiki:editor"], where
        assert claims["groups"] == ["staff"], where

    plain = await _tokens(server, rp, "openid profile")
    for where, claims in (await _all_claims(client, rp, plain)).items():
        assert "roles" not in claims, where
        assert "groups" not in claims, where


async def test_a_client_sees_only_the_roles_its_filter_lets_through(
    server: Server, client: httpx.AsyncClient
) -> None:
    root = await admin(client)
    user = await account(client, EMAIL)
    await _setup(client, root)
    await client.put(
        f"/v1/admin/users/{user['id']}/app-access",
        json={"roles": ["billing:admin", "billing:viewer"], "groups": ["staff"]},
        headers=root,
    )
    billing = await register_client(scopes=SCOPES)
    listed = await register_client(scopes=SCOPES)
    by_prefix = await client.put(
        f"/v1/admin/clients/{billing.client_id}/role-filter",
        json={"prefix": "billing:"},
        headers=root,
    )
    assert by_prefix.status_code == 200, by_prefix.text
    by_list = await client.put(
        f"/v1/admin/clients/{listed.client_id}/role-filter",
        json={"names": ["wiki:editor", "billing:viewer"]},
        headers=root,
    )
    assert by_list.status_code == 200, by_list.text
    for rp, expected in (
        (billing, ["billing:admin", "billing:viewer"]),
        (listed, ["billing:viewer", "wiki:editor"]),
    ):
        body = await _tokens(server, rp, "openid roles")
        for where, claims in (await _all_claims(client, rp, body)).items():
            assert claims["roles"] == expected, (rp.client_id, where)
    missing = await client.put(
        "/v1/admin/clients/no-such-client/role-filter", json={"prefix": "x"}, headers=root
    )
    assert_error(missing, 404, "not_found")


async def test_a_client_sees_only_the_groups_its_filter_lets_through(
    server: Server, client: httpx.AsyncClient
) -> None:
    root = await admin(client)
    user = await account(client, EMAIL)
    await _setup(client, root)
    for group in ("finance-audit", "finance-payroll"):
        created = await client.post("/v1/admin/app-groups", json={"name": group}, headers=root)
        assert created.status_code == 201, created.text
    await client.put(
        f"/v1/admin/users/{user['id']}/app-access",
        json={"roles": ["billing:admin"], "groups": ["finance-audit", "finance-payroll", "staff"]},
        headers=root,
    )
    finance = await register_client(scopes=SCOPES)
    listed = await register_client(scopes=SCOPES)
    unfiltered = await register_client(scopes=SCOPES)
    by_prefix = await client.put(
        f"/v1/admin/clients/{finance.client_id}/group-filter",
        json={"prefix": "finance-"},
        headers=root,
    )
    assert by_prefix.json() == {"client_id": finance.client_id, "prefix": "finance-", "names": None}
    by_list = await client.put(
        f"/v1/admin/clients/{listed.client_id}/group-filter",
        json={"prefix": "finance-", "names": ["staff", "finance-audit"]},  # the list wins
        headers=root,
    )
    assert by_list.status_code == 200, by_list.text
    for rp, expected in (
        (finance, ["finance-audit", "finance-payroll"]),
        (listed, ["finance-audit", "staff"]),
        (unfiltered, ["finance-audit", "finance-payroll", "staff"]),
    ):
        body = await _tokens(server, rp, "openid roles groups")
        for where, claims in (await _all_claims(client, rp, body)).items():
            assert claims["groups"] == expected, (rp.client_id, where)
            # The group filter leaves the roles alone (they carry wiki:editor through staff).
            assert claims["roles"] == ["billing:admin", "wiki:editor"], (rp.client_id, where)
    audit = await AuditEvent.filter(event="admin.client_group_filter_set").order_by("created_at")
    assert [(row.client_id, row.details["prefix"]) for row in audit] == [
        (finance.client_id, "finance-"),
        (listed.client_id, "finance-"),
    ]


async def test_a_client_whose_id_is_a_url_has_its_filters_set(client: httpx.AsyncClient) -> None:
    root = await admin(client)
    url = "https://agent.example/client.json"
    await Client.create(id=url, name="Doc", public=True, registration="metadata_document")
    segment = quote(url, safe="")
    roles = await client.put(
        f"/v1/admin/clients/{segment}/role-filter", json={"prefix": "billing:"}, headers=root
    )
    assert roles.status_code == 200, roles.text
    assert roles.json()["client_id"] == url
    groups = await client.put(
        f"/v1/admin/clients/{segment}/group-filter", json={"names": ["staff"]}, headers=root
    )
    assert groups.status_code == 200, groups.text
    assert groups.json()["client_id"] == url
    stored = await Client.get(id=url)
    assert (stored.app_role_prefix, stored.app_group_names) == ("billing:", ["staff"])
    audited = await AuditEvent.filter(event__startswith="admin.client_").values_list(
        "event", "client_id"
    )
    assert sorted(audited) == [
        ("admin.client_group_filter_set", url),
        ("admin.client_role_filter_set", url),
    ]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("RP", {"prefix": "bad prefix"}, 422, "validation_failed"),
        ("RP", {"names": ["ok", "not ok"]}, 422, "validation_failed"),
        ("RP", {"names": "staff"}, 400, None),
        ("RP", {"prefix": "x", "extra": 1}, 400, None),
        ("RP", {"prefix": "x" * 129}, 400, None),
        ("/v1/admin/clients/no-such-client/group-filter", {"prefix": "x"}, 404, "not_found"),
    ],
)
async def test_a_bad_group_filter_changes_nothing(
    client: httpx.AsyncClient, path: str, body: Any, status: int, code: str | None
) -> None:
    root = await admin(client)
    rp = await register_client(scopes=SCOPES)
    await client.put(
        f"/v1/admin/clients/{rp.client_id}/group-filter", json={"prefix": "keep-"}, headers=root
    )
    audits = await AuditEvent.all().count()
    url = path.replace("RP", f"/v1/admin/clients/{rp.client_id}/group-filter")
    assert_error(await client.put(url, json=body, headers=root), status, code)
    stored = await Client.get(id=rp.client_id)
    assert (stored.app_group_prefix, stored.app_group_names) == ("keep-", None)
    assert await AuditEvent.all().count() == audits


async def test_a_change_takes_effect_at_the_next_token_and_is_announced(
    events_server: Server, events_redis_url: str
) -> None:
    async with httpx.AsyncClient(base_url=events_server.url, timeout=30) as client:
        root = await admin(client)
        user = await account(client, EMAIL)
        await _setup(client, root)
        rp = await register_client(scopes=SCOPES)
        body = await _tokens(events_server, rp, "openid roles offline_access")
        _, before = decode_jwt(body["access_token"], await key_set(client))
        assert before["roles"] == []

        subscriber = redis.Redis.from_url(events_redis_url)
        pubsub = subscriber.pubsub()
        await pubsub.subscribe("auth:user.roles_changed")
        await pubsub.get_message(timeout=1)
        changed = await client.put(
            f"/v1/admin/users/{user['id']}/app-access",
            json={"groups": ["staff"]},
            headers=root,
        )
        assert changed.status_code == 200
        message = None
        for _ in range(50):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message is not None:
                break
            await asyncio.sleep(0.05)
        await pubsub.aclose()
        await subscriber.aclose()
        assert message is not None
        payload = json.loads(message["data"])
        assert payload["user_id"] == user["id"]
        assert payload["roles"] == ["wiki:editor"]
        assert payload["groups"] == ["staff"]

        refreshed = await refresh(client, rp, body["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        _, after = decode_jwt(refreshed.json()["access_token"], await key_set(client))
        assert after["roles"] == ["wiki:editor"]

        # The group losing its role reaches the member too.
        await client.put("/v1/admin/app-groups/staff/roles", json={"roles": []}, headers=root)
        audits = await AuditEvent.filter(event="user.roles_changed", user_id=user["id"])
        assert [a.details["roles"] for a in audits] == [["wiki:editor"], []]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/admin/app-roles", {"name": "bad name"}, 422, "validation_failed"),
        ("post", "/v1/admin/app-roles", {"name": "billing:admin"}, 409, "conflict"),
        ("post", "/v1/admin/app-groups", {"name": "staff"}, 409, "conflict"),
        ("put", "/v1/admin/app-groups/staff/roles", {"roles": ["nope"]}, 422, None),
        ("put", "/v1/admin/app-groups/nobody/roles", {"roles": []}, 404, "not_found"),
        ("delete", "/v1/admin/app-roles/nope", None, 404, "not_found"),
        ("delete", "/v1/admin/app-groups/nope", None, 404, "not_found"),
        ("put", "USER/app-access", {"roles": ["nope"]}, 422, "validation_failed"),
        ("put", "USER/app-access", {"groups": ["nope"]}, 422, "validation_failed"),
        ("put", "USER/app-access", {"roles": "billing:admin"}, 400, None),
        (
            "put",
            "/v1/admin/users/00000000-0000-0000-0000-000000000000/app-access",
            {"roles": []},
            404,
            "not_found",
        ),
    ],
)
async def test_bad_admin_requests_change_nothing(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str | None,
) -> None:
    root = await admin(client)
    user = await account(client, EMAIL)
    await _setup(client, root)
    await client.put(
        f"/v1/admin/users/{user['id']}/app-access", json={"roles": ["billing:admin"]}, headers=root
    )
    before = await client.get(f"/v1/admin/users/{user['id']}/app-access", headers=root)
    audits = await AuditEvent.all().count()
    url = path.replace("USER", f"/v1/admin/users/{user['id']}")
    kwargs: dict[str, Any] = {"headers": root}
    if body is not None:
        kwargs["json"] = body
    response = await client.request(method.upper(), url, **kwargs)
    assert_error(response, status, code)
    after = await client.get(f"/v1/admin/users/{user['id']}/app-access", headers=root)
    assert after.json() == before.json()
    assert await AppRole.all().count() == 3
    assert await AppGroup.all().count() == 1
    assert await AuditEvent.all().count() == audits


async def test_only_admins_change_roles_and_auditors_read_them(client: httpx.AsyncClient) -> None:
    root = await admin(client)
    reader = await auditor(client)
    await _setup(client, root)
    listed = await client.get("/v1/admin/app-groups", headers=reader)
    assert listed.json() == {
        "groups": [
            {"name": "staff", "description": "Staff", "roles": ["wiki:editor"], "members": 0}
        ]
    }
    refused = await client.post("/v1/admin/app-roles", json={"name": "x"}, headers=reader)
    assert_error(refused, 403)
    assert not await AppRole.exists(name="x")
    deleted = await client.delete("/v1/admin/app-roles/wiki:editor", headers=root)
    assert deleted.status_code == 200
    roles = (await client.get("/v1/admin/app-roles", headers=reader)).json()["roles"]
    assert [role["name"] for role in roles] == ["billing:admin", "billing:viewer"]


async def test_a_filter_set_while_workers_keep_client_copies_holds_at_the_next_token(
    server_with: Any,
) -> None:
    server: Server = await server_with(client_cache="true")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        root = await admin(client)
        user = await account(client, EMAIL)
        await _setup(client, root)
        await client.put(
            f"/v1/admin/users/{user['id']}/app-access",
            json={"roles": ["billing:admin"], "groups": ["staff"]},
            headers=root,
        )
        rp = await register_client(scopes=SCOPES)
        # The code redemption leaves this worker with a copy of the client row.
        body = await _tokens(server, rp, "openid roles offline_access")
        keys = await key_set(client)
        assert decode_jwt(body["access_token"], keys)[1]["roles"] == [
            "billing:admin",
            "wiki:editor",
        ]
        filtered = await client.put(
            f"/v1/admin/clients/{rp.client_id}/role-filter",
            json={"prefix": "billing:"},
            headers=root,
        )
        assert filtered.status_code == 200, filtered.text
        refreshed = await refresh(client, rp, body["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        assert decode_jwt(refreshed.json()["access_token"], keys)[1]["roles"] == ["billing:admin"]
