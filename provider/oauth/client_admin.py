"""What an administrator does to a client: register, change, rotate the secret, disable, delete.

The admin API and the admin console call these use cases; each validates with the registration
rules (`validate_spec`), writes in one unit of work with its audit row, and refuses the access
tokens a disabled or deleted client still holds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from provider.context import Caller, Services
from provider.domain_errors import NotFound
from provider.oauth.client_removal import remove_client
from provider.oauth.clients import (
    ClientSpec,
    ClientSpecError,
    create_client,
    find_client,
    is_self_registered,
    rotate_secret,
    validate_spec,
)
from provider.oauth.first_party import refuse_changes_to_built_in
from provider.oauth.issuance import deny_client_tokens
from provider.oauth.scopes import DEFAULT_CLIENT_SCOPES
from provider.storage.clients import Clients
from provider.storage.models import Client, User
from provider.storage.unit_of_work import unit_of_work

# The fields an update may change; the others are fixed at registration.
CHANGEABLE = (
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scopes",
    "grant_types",
    "first_party",
    "introspect_any",
    "disabled",
    "audience",
    "logo_uri",
)


def _admin(admin: User) -> dict[str, str]:
    return {"admin_id": str(admin.id)}


def _validate(services: Services, spec: ClientSpec) -> None:
    settings = services.settings
    validate_spec(spec, settings.issuer, allow_private=settings.outbound_allow_private)


def spec_of(client: Client) -> ClientSpec:
    """The registration a client has now, in the shape `validate_spec` checks."""
    return ClientSpec(
        name=client.name,
        redirect_uris=list(client.redirect_uris),
        post_logout_redirect_uris=list(client.post_logout_redirect_uris),
        grant_types=list(client.grant_types),
        scopes=list(client.scopes),
        public=client.public,
        first_party=client.first_party,
        introspect_any=client.introspect_any,
        auth_method=client.token_endpoint_auth_method,
        id_token_alg=client.id_token_signed_response_alg,
        audience=client.audience,
        jwks=client.jwks,
        jwks_uri=client.jwks_uri,
        logo_uri=client.logo_uri,
    )


async def client_for_admin(client_id: str) -> Client:
    """The client an administrator looks at, disabled or not; NotFound if there is none (the
    built-in first-party app is never shown)."""
    client = await find_client(client_id, include_disabled=True)
    if client is None:
        raise NotFound("No such client.")
    return client


async def client_to_change(client_id: str) -> Client:
    """The client an administrator edits, rotates, disables or deletes: the built-in
    first-party app is refused as such (BuiltInClient), before it is looked for."""
    refuse_changes_to_built_in(client_id)
    return await client_for_admin(client_id)


async def register_client(
    services: Services, caller: Caller, admin: User, spec: ClientSpec
) -> tuple[Client, str | None]:
    """A new client and its secret in clear (shown once; None for a client without one)."""
    _validate(services, spec)
    settings = services.settings
    async with unit_of_work(caller, services.events) as work:
        # Inside the transaction: Tortoise routes this task's queries to its connection.
        client, secret = await create_client(
            spec, settings.secret, settings.issuer, allow_private=settings.outbound_allow_private
        )
        await work.audit(
            "admin.client_created",
            client_id=client.id,
            details={**_admin(admin), "name": client.name},
        )
    return client, secret


async def update_client(
    services: Services, caller: Caller, admin: User, client: Client, changes: dict[str, Any]
) -> Client:
    """Apply `changes` (fields of CHANGEABLE) if the client would still pass the registration
    rules. An empty `scopes` list means the default scopes, as at registration."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ClientSpecError(
            "these fields cannot be changed: %(fields)s", fields=", ".join(unknown)
        )
    if changes.get("first_party") and is_self_registered(client):
        raise ClientSpecError("a self-registered client can never be first-party")
    if changes.get("logo_uri") == "":
        changes = {**changes, "logo_uri": None}  # an empty logo_uri removes the logo
    spec_fields = {name: value for name, value in changes.items() if name != "disabled"}
    _validate(services, replace(spec_of(client), **spec_fields))
    changes = dict(changes)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if "scopes" in changes and not changes["scopes"]:
        changes["scopes"] = list(DEFAULT_CLIENT_SCOPES)
    async with unit_of_work(caller, services.events) as work:
        work.client_changed(client.id)
        client.update_from_dict(changes)
        await Clients(work.conn).save(client)
        await work.audit(
            "admin.client_updated",
            client_id=client.id,
            details={**_admin(admin), "fields": sorted(changes)},
        )
    if changes.get("disabled"):
        await deny_client_tokens(services, client)
    return client


async def rotate_client_secret(
    services: Services, caller: Caller, admin: User, client: Client, grace_seconds: int
) -> str:
    """A new secret in clear (shown once); the previous one works for `grace_seconds`."""
    async with unit_of_work(caller, services.events) as work:
        work.client_changed(client.id)
        # Inside the transaction: Tortoise routes this task's queries to its connection.
        secret = await rotate_secret(client, services.settings.secret, grace_seconds)
        await work.audit(
            "admin.client_secret_rotated",
            client_id=client.id,
            details={**_admin(admin), "grace_seconds": grace_seconds},
        )
    return secret


async def disable_client(services: Services, caller: Caller, admin: User, client: Client) -> None:
    """No authorization, no token, no refresh for the client; its access tokens are refused."""
    if client.disabled:
        return
    async with unit_of_work(caller, services.events) as work:
        work.client_changed(client.id)
        client.disabled = True
        await Clients(work.conn).save(client, fields=["disabled"])
        await work.audit("admin.client_disabled", client_id=client.id, details=_admin(admin))
    await deny_client_tokens(services, client)


async def delete_client(services: Services, caller: Caller, admin: User, client: Client) -> int:
    """Remove the client, its consents and codes; returns how many refresh tokens it held."""
    async with unit_of_work(caller, services.events) as work:
        work.client_changed(client.id)
        revoked = await remove_client(work, client.id)
        await work.audit(
            "admin.client_deleted",
            client_id=client.id,
            details={**_admin(admin), "name": client.name, "refresh_tokens_revoked": revoked},
        )
    await deny_client_tokens(services, client)
    return revoked
