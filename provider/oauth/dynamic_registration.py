"""Clients that register themselves (RFC 7591) and manage their registration (RFC 7592).

- Unless PROVIDER_REGISTRATION_OPEN is set, a registration needs an initial access token
  (RFC 7591 §3), which is spent one use per client registered; a token presented while
  registration is open is checked and spent all the same.
- Every registration counts against the per-address hourly limit on arrival, before its body is
  read (`accounts.limits.client_registration_address`).
- The metadata is read under the registration policy (`registration_policy`); the client is
  marked `dynamic`, is never first-party, and gets a registration access token (only its hash is
  kept) for reading, replacing and deleting its registration at its registration_client_uri.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from provider.accounts.limits import client_registration_address, count_arrival
from provider.cache.ratelimit import Allowance
from provider.context import Caller, Services
from provider.crypto.tokens import new_token, token_hash
from provider.domain_errors import InvalidAccessToken, InvalidClientMetadata
from provider.oauth.client_removal import remove_client
from provider.oauth.clients import (
    DYNAMIC,
    create_client,
    find_client,
    secret_matches,
)
from provider.oauth.issuance import deny_client_tokens
from provider.oauth.registration_policy import read_registration
from provider.storage.clients import Clients
from provider.storage.db import default_connection
from provider.storage.initial_access_tokens import InitialAccessTokens
from provider.storage.models import Client
from provider.storage.unit_of_work import unit_of_work, utcnow

# RFC 7592 §2.2: an update MUST NOT carry these; they are the server's to say.
SERVER_FIELDS = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)


@dataclass(frozen=True, slots=True)
class RegistrationRequest:
    metadata: dict[str, Any]
    initial_access_token: str | None


@dataclass(frozen=True, slots=True)
class Registered:
    client: Client
    client_secret: str | None
    registration_access_token: str
    allowance: Allowance


def registration_client_uri(issuer: str, client_id: str) -> str:
    """RFC 7592 §3: where the client reads, replaces and deletes its registration."""
    return f"{issuer}/oauth/clients/{quote(client_id, safe='')}"


async def register_dynamic_client(
    services: Services, caller: Caller, read: Callable[[], RegistrationRequest]
) -> Registered:
    """RFC 7591 §3: a new client from the metadata, or a typed refusal."""
    settings = services.settings
    allowance, request = await count_arrival(
        services, caller, client_registration_address(settings), read
    )
    presented = request.initial_access_token
    digest = token_hash(presented) if presented else None
    initial = InitialAccessTokens(default_connection())
    if digest is None and not settings.registration_open:
        raise InvalidAccessToken("Registration needs an initial access token.")
    if digest is not None and not await initial.usable(digest, utcnow()):
        raise InvalidAccessToken("The initial access token is invalid, expired or used up.")
    registration = read_registration(settings, request.metadata)
    token = new_token()
    async with unit_of_work(caller, services.events) as work:
        # RFC 7591 §3: the token is spent with the registration, atomically: a registration
        # that fails spends nothing, and the last use goes to one registration only.
        if digest is not None and not await InitialAccessTokens(work.conn).spend(digest, utcnow()):
            raise InvalidAccessToken("The initial access token is invalid, expired or used up.")
        client, secret = await create_client(
            registration.spec,
            settings.secret,
            settings.issuer,
            allow_private=settings.outbound_allow_private,
            registration=DYNAMIC,
            registration_token_hash=token_hash(token),
            client_metadata=registration.metadata,
        )
        await work.audit(
            "client.registered",
            client_id=client.id,
            details={
                "name": client.name,
                "public": client.public,
                "initial_access_token": digest is not None,
            },
        )
    return Registered(client, secret, token, allowance)


async def _registered_client(client_id: str, presented: str | None) -> Client:
    """The dynamic client whose registration access token this is (RFC 7592 §2); anything else
    (no token, a wrong one, an unknown client, one registered otherwise) is the same 401."""
    client = await find_client(client_id, include_disabled=True)
    if (
        presented is None
        or client is None
        or client.registration != DYNAMIC
        or client.registration_token_hash is None
        or not hmac.compare_digest(client.registration_token_hash, token_hash(presented))
    ):
        raise InvalidAccessToken("The registration access token is not valid for this client.")
    return client


def _rotate(client: Client) -> str:
    """RFC 7592 §3: each answer carries the registration access token, and only its hash is
    kept, so each read or update issues a new one (§2.1, §2.2 allow it): the old one ends."""
    token = new_token()
    client.registration_token_hash = token_hash(token)
    return token


@dataclass(frozen=True, slots=True)
class Configuration:
    client: Client
    registration_access_token: str


async def read_client_configuration(
    services: Services, caller: Caller, client_id: str, presented: str | None
) -> Configuration:
    """RFC 7592 §2.1: the registration as it stands, with a new registration access token."""
    client = await _registered_client(client_id, presented)
    async with unit_of_work(caller, services.events) as work:
        token = _rotate(client)
        await Clients(work.conn).save(client, fields=["registration_token_hash"])
    return Configuration(client, token)


async def update_client_configuration(
    services: Services,
    caller: Caller,
    client_id: str,
    presented: str | None,
    read: Callable[[], dict[str, Any]],
) -> Configuration:
    """RFC 7592 §2.2: the metadata replaces the registration as a whole. The body is read
    (`read`) once the token is known good: a stranger learns nothing of the policy."""
    client = await _registered_client(client_id, presented)
    metadata = read()
    if metadata.get("client_id") != client.id:
        raise InvalidClientMetadata("client_id must be present and be this client's.")
    present = [name for name in SERVER_FIELDS if name in metadata]
    if present:
        raise InvalidClientMetadata(f"these fields are not the client's to send: {present}.")
    secret = metadata.get("client_secret")
    if secret is not None and (
        not isinstance(secret, str) or not secret_matches(client, secret, services.settings.secret)
    ):
        # The client MUST NOT choose its secret; a value sent must be the current one.
        raise InvalidClientMetadata("client_secret does not match the issued secret.")
    registration = read_registration(services.settings, metadata)
    if registration.auth_method != client.token_endpoint_auth_method:
        raise InvalidClientMetadata("token_endpoint_auth_method cannot change; register anew.")
    spec = registration.spec
    async with unit_of_work(caller, services.events) as work:
        work.client_changed(client.id)
        client.update_from_dict(
            {
                "name": spec.name.strip(),
                "redirect_uris": spec.redirect_uris,
                "post_logout_redirect_uris": spec.post_logout_redirect_uris,
                "grant_types": spec.grant_types,
                "scopes": spec.scopes,
                "jwks": spec.jwks,
                "jwks_uri": spec.jwks_uri,
                "id_token_signed_response_alg": spec.id_token_alg,
                "client_metadata": registration.metadata,
            }
        )
        token = _rotate(client)
        await Clients(work.conn).save(client)
        await work.audit("client.registration_updated", client_id=client.id)
    return Configuration(client, token)


async def delete_client_configuration(
    services: Services, caller: Caller, client_id: str, presented: str | None
) -> None:
    """RFC 7592 §2.3: the client and everything it was granted are gone."""
    client = await _registered_client(client_id, presented)
    async with unit_of_work(caller, services.events) as work:
        work.client_changed(client.id)
        revoked = await remove_client(work, client.id)
        await work.audit(
            "client.registration_deleted",
            client_id=client.id,
            details={"name": client.name, "refresh_tokens_revoked": revoked},
        )
    await deny_client_tokens(services, client)
