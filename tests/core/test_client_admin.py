"""Client administration in process: registration and updates under the registration rules,
what an update may change, and a disabled or deleted client's tokens refused at once."""

from __future__ import annotations

import uuid

import pytest

from provider.context import Caller, Services
from provider.oauth.client_admin import (
    delete_client,
    disable_client,
    register_client,
    rotate_client_secret,
    update_client,
)
from provider.oauth.clients import ClientSpec, ClientSpecError, secret_matches
from provider.oauth.issuance import CLIENT_DENYLIST_PREFIX
from provider.oauth.scopes import DEFAULT_CLIENT_SCOPES
from provider.storage.models import AuditEvent, Client, User

CALLER = Caller(ip="203.0.113.9", user_agent="tests", request_id="req-core")
SPEC = ClientSpec(
    name="  Shop  ",
    redirect_uris=["https://shop.example/cb"],
    post_logout_redirect_uris=[],
    grant_types=["authorization_code", "refresh_token"],
    scopes=["openid"],
)


async def _admin() -> User:
    return await User.create(id=uuid.uuid4(), email="root@example.com", password_hash="x")


async def test_register_then_update_under_the_registration_rules(services: Services) -> None:
    admin = await _admin()
    client, secret = await register_client(services, CALLER, admin, SPEC)
    assert secret
    created = await AuditEvent.get(event="admin.client_created")
    assert created.details == {"admin_id": str(admin.id), "name": client.name}

    with pytest.raises(ClientSpecError, match="must use https"):
        await update_client(
            services, CALLER, admin, client, {"redirect_uris": ["http://shop.example/cb"]}
        )
    with pytest.raises(ClientSpecError, match="cannot be changed: public"):
        await update_client(services, CALLER, admin, client, {"public": True})
    assert (await Client.get(id=client.id)).redirect_uris == ["https://shop.example/cb"]

    await update_client(services, CALLER, admin, client, {"name": " Shop 2 ", "scopes": []})
    stored = await Client.get(id=client.id)
    assert stored.name == "Shop 2"
    assert stored.scopes == list(DEFAULT_CLIENT_SCOPES)
    updated = await AuditEvent.get(event="admin.client_updated")
    assert updated.details["fields"] == ["name", "scopes"]


async def test_rotation_disabling_and_deletion(services: Services) -> None:
    admin = await _admin()
    client, first = await register_client(services, CALLER, admin, SPEC)
    assert first is not None
    second = await rotate_client_secret(services, CALLER, admin, client, 0)
    stored = await Client.get(id=client.id)
    assert secret_matches(stored, second, services.settings.secret)
    assert not secret_matches(stored, first, services.settings.secret)

    await disable_client(services, CALLER, admin, client)
    assert (await Client.get(id=client.id)).disabled
    assert await services.cache.get(CLIENT_DENYLIST_PREFIX + client.id) is not None
    await disable_client(services, CALLER, admin, client)
    assert await AuditEvent.filter(event="admin.client_disabled").count() == 1

    assert await delete_client(services, CALLER, admin, client) == 0
    assert await Client.filter(id=client.id).count() == 0
    deleted = await AuditEvent.get(event="admin.client_deleted")
    assert deleted.details["refresh_tokens_revoked"] == 0
