"""Resource server administration in process: the registration rules (RFC 8707 identifiers,
never the provider's own audience), what an update may change, and the audit trail."""

from __future__ import annotations

from dataclasses import replace

import pytest

from provider.context import Caller, Services
from provider.domain_errors import NotFound, ResourceIdentifierTaken, ValidationFailed
from provider.oauth.resource_admin import (
    ResourceSpec,
    add_resource,
    describe,
    list_resources,
    remove_resource,
    resource_for_admin,
    update_resource,
)
from provider.storage.models import AuditEvent
from tests.core.rows import make_client

CALLER = Caller(ip="203.0.113.9", user_agent="tests", request_id="req-core")
SPEC = ResourceSpec(identifier="https://api.example.com", name=" Orders ", scopes=["read", "read"])


async def test_add_update_and_remove_with_audit(services: Services) -> None:
    await make_client("shop")
    settings, events = services.settings, services.events
    resource = await add_resource(settings, events, CALLER, SPEC, actor_id="admin-1")
    shown = describe(resource)
    assert (shown["identifier"], shown["name"], shown["scopes"]) == (
        "https://api.example.com",
        "Orders",
        ["read"],
    )
    assert (shown["signing_alg"], shown["allowed_clients"], shown["access_token_ttl"]) == (
        "RS256",
        None,
        None,
    )
    created = await AuditEvent.get(event="admin.resource_created")
    assert created.details == {"resource": "https://api.example.com", "admin_id": "admin-1"}

    changes = {"signing_alg": "ES256", "allowed_clients": ["shop"], "access_token_ttl": 300}
    await update_resource(settings, events, CALLER, resource, changes, actor_id="admin-1")
    stored = await resource_for_admin(str(resource.id))
    assert (stored.signing_alg, stored.allowed_clients, stored.access_token_ttl) == (
        "ES256",
        ["shop"],
        300,
    )
    updated = await AuditEvent.get(event="admin.resource_updated")
    assert updated.details["fields"] == ["access_token_ttl", "allowed_clients", "signing_alg"]

    with pytest.raises(ValidationFailed) as fixed:
        await update_resource(
            settings, events, CALLER, resource, {"identifier": "https://b.example"}, actor_id=None
        )
    assert fixed.value.problems == {"identifier": ["cannot be changed"]}

    await remove_resource(events, CALLER, resource, actor_id="admin-1")
    assert await list_resources() == []
    with pytest.raises(NotFound):
        await resource_for_admin(str(resource.id))
    assert await AuditEvent.filter(event="admin.resource_deleted").count() == 1


async def test_an_identifier_is_registered_once(services: Services) -> None:
    await add_resource(services.settings, services.events, CALLER, SPEC, actor_id=None)
    with pytest.raises(ResourceIdentifierTaken):
        await add_resource(services.settings, services.events, CALLER, SPEC, actor_id=None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"identifier": "https://api.example.com/#x"}, "identifier"),
        ({"identifier": "relative/path"}, "identifier"),
        ({"identifier": "https://"}, "identifier"),
        # The audience rule: the provider and its account API are never a resource.
        ({"identifier": "https://id.example.com"}, "identifier"),
        ({"identifier": "https://id.example.com/v1"}, "identifier"),
        ({"identifier": "https://ID.example.com/v1/admin"}, "identifier"),
        ({"name": "  "}, "name"),
        ({"scopes": ["has space"]}, "scopes"),
        ({"scopes": ["openid"]}, "scopes"),
        ({"scopes": ["offline_access"]}, "scopes"),
        ({"access_token_ttl": 5}, "access_token_ttl"),
        # Never longer than PROVIDER_ACCESS_TOKEN_TTL (600 here).
        ({"access_token_ttl": 601}, "access_token_ttl"),
        ({"signing_alg": "HS256"}, "signing_alg"),
        ({"allowed_clients": ["nobody"]}, "allowed_clients"),
    ],
)
async def test_the_registration_rules(
    services: Services, changes: dict[str, object], field: str
) -> None:
    spec = replace(SPEC, **changes)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as refused:
        await add_resource(services.settings, services.events, CALLER, spec, actor_id=None)
    assert list(refused.value.problems) == [field]


async def test_urns_are_identifiers_too(services: Services) -> None:
    spec = ResourceSpec(identifier="urn:example:orders", name="Orders")
    resource = await add_resource(services.settings, services.events, CALLER, spec, actor_id=None)
    assert resource.identifier == "urn:example:orders"
