"""Resource servers (APIs) as configuration: the rules of a valid one, and the admin use cases.

The CLI, the admin API and the admin pages all register, change and remove resource servers
through `add_resource`, `update_resource` and `remove_resource`: one validation and an audit row
for each change. A resource's identifier is what its access tokens carry as `aud` (RFC 8707), so
it can never be the provider itself or its account API (the audience rule of DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from provider.cache.events import EventPublisher
from provider.config import Settings
from provider.context import Caller
from provider.domain_errors import NotFound, Phrase, ResourceIdentifierTaken, ValidationFailed
from provider.oauth.clients import find_client, is_reserved_audience
from provider.oauth.resources import is_resource_identifier
from provider.oauth.scopes import is_scope_token
from provider.storage.db import default_connection
from provider.storage.models import ResourceServer
from provider.storage.resources import ResourceServers
from provider.storage.unit_of_work import unit_of_work

SIGNING_ALGS = ("RS256", "ES256")
MIN_TTL = 30
MAX_SCOPES = 64
# Scopes the provider itself defines the meaning of; an API cannot redefine them.
PROVIDER_SCOPES = frozenset({"openid", "offline_access"})
CHANGEABLE = ("name", "scopes", "access_token_ttl", "signing_alg", "allowed_clients")


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """Everything an administrator sets. `allowed_clients` None: any client may ask for it."""

    identifier: str
    name: str
    scopes: list[str] = field(default_factory=list)
    access_token_ttl: int | None = None
    signing_alg: str = "RS256"
    allowed_clients: list[str] | None = None


def describe(resource: ResourceServer) -> dict[str, Any]:
    """A resource server as the admin API, the pages and the CLI show it."""
    return {
        "id": str(resource.id),
        "identifier": resource.identifier,
        "name": resource.name,
        "scopes": list(resource.scopes),
        "access_token_ttl": resource.access_token_ttl,
        "signing_alg": resource.signing_alg,
        "allowed_clients": resource.allowed_clients,
        "created_at": resource.created_at.isoformat(),
        "updated_at": resource.updated_at.isoformat(),
    }


async def _validated(settings: Settings, spec: ResourceSpec) -> ResourceSpec:
    problems: dict[str, list[str]] = {}
    identifier = spec.identifier.strip()
    if not is_resource_identifier(identifier):
        # RFC 8707 §2: an absolute URI without a fragment.
        problems["identifier"] = ["must be an absolute URI without a fragment"]
    elif is_reserved_audience(identifier, settings.issuer):
        problems["identifier"] = ["must not be the provider or an address under it"]
    name = spec.name.strip()
    if not name or len(name) > 200:
        problems["name"] = ["must be 1 to 200 characters"]
    scopes = list(dict.fromkeys(spec.scopes))
    if len(scopes) > MAX_SCOPES or not all(is_scope_token(s) and len(s) <= 64 for s in scopes):
        problems["scopes"] = [f"up to {MAX_SCOPES} scope tokens of at most 64 characters"]
    elif PROVIDER_SCOPES & set(scopes):
        problems["scopes"] = ["openid and offline_access belong to the provider"]
    ttl, longest = spec.access_token_ttl, settings.access_token_ttl
    # Only shorter than PROVIDER_ACCESS_TOKEN_TTL: retired keys stay published, and revoked
    # tokens denylisted, for that long.
    if ttl is not None and not MIN_TTL <= ttl <= longest:
        problems["access_token_ttl"] = [
            Phrase("must be %(least)s to %(most)s seconds", least=MIN_TTL, most=longest)
        ]
    if spec.signing_alg not in SIGNING_ALGS:
        problems["signing_alg"] = [
            Phrase("must be one of %(choices)s", choices=", ".join(SIGNING_ALGS))
        ]
    allowed = None if spec.allowed_clients is None else list(dict.fromkeys(spec.allowed_clients))
    if allowed is not None:
        unknown = [c for c in allowed if await find_client(c, include_disabled=True) is None]
        if unknown:
            problems["allowed_clients"] = [
                Phrase("unknown client: %(clients)s", clients=", ".join(unknown))
            ]
    if problems:
        raise ValidationFailed(problems)
    return replace(spec, identifier=identifier, name=name, scopes=scopes, allowed_clients=allowed)


def _audit_details(resource: ResourceServer, actor_id: str | None) -> dict[str, Any]:
    return {"resource": resource.identifier, "admin_id": actor_id}


async def list_resources() -> list[ResourceServer]:
    return await ResourceServers(default_connection()).everyone()


async def resource_for_admin(resource_id: str) -> ResourceServer:
    """The resource server with this id; NotFound if there is none."""
    resource = await ResourceServers(default_connection()).find(resource_id)
    if resource is None:
        raise NotFound("No such resource server.")
    return resource


async def resource_by_identifier(identifier: str) -> ResourceServer:
    """The resource server with this exact identifier; NotFound if there is none."""
    found = await ResourceServers(default_connection()).by_identifiers([identifier])
    if identifier not in found:
        raise NotFound("No such resource server.")
    return found[identifier]


async def add_resource(
    settings: Settings,
    events: EventPublisher,
    caller: Caller,
    spec: ResourceSpec,
    *,
    actor_id: str | None,
) -> ResourceServer:
    spec = await _validated(settings, spec)
    async with unit_of_work(caller, events) as work:
        store = ResourceServers(work.conn)
        if await store.identifier_taken(spec.identifier):
            raise ResourceIdentifierTaken()
        resource = await store.add(
            identifier=spec.identifier,
            name=spec.name,
            scopes=spec.scopes,
            access_token_ttl=spec.access_token_ttl,
            signing_alg=spec.signing_alg,
            allowed_clients=spec.allowed_clients,
        )
        await work.audit("admin.resource_created", details=_audit_details(resource, actor_id))
    return resource


async def update_resource(
    settings: Settings,
    events: EventPublisher,
    caller: Caller,
    resource: ResourceServer,
    changes: dict[str, Any],
    *,
    actor_id: str | None,
) -> ResourceServer:
    """Apply `changes` (fields of CHANGEABLE; the identifier is fixed, tokens carry it)."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ValidationFailed({name: ["cannot be changed"] for name in unknown})
    current = ResourceSpec(
        identifier=resource.identifier,
        name=resource.name,
        scopes=list(resource.scopes),
        access_token_ttl=resource.access_token_ttl,
        signing_alg=resource.signing_alg,
        allowed_clients=resource.allowed_clients,
    )
    spec = await _validated(settings, replace(current, **changes))
    fields = sorted(changes)
    async with unit_of_work(caller, events) as work:
        for name in fields:
            setattr(resource, name, getattr(spec, name))
        await ResourceServers(work.conn).save(resource, fields=fields)
        await work.audit(
            "admin.resource_updated",
            details={**_audit_details(resource, actor_id), "fields": fields},
        )
    return resource


async def remove_resource(
    events: EventPublisher, caller: Caller, resource: ResourceServer, *, actor_id: str | None
) -> None:
    """Remove it: tokens already issued stay valid until they expire, no new one is issued
    for it (a refresh naming it is refused with invalid_target)."""
    async with unit_of_work(caller, events) as work:
        await ResourceServers(work.conn).remove(resource)
        await work.audit("admin.resource_deleted", details=_audit_details(resource, actor_id))
