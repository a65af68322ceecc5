"""grant_type=client_credentials (RFC 6749 §4.4): the client acting on its own behalf."""

from __future__ import annotations

from provider.context import Caller, Services
from provider.domain_errors import InvalidScope, UnauthorizedClient
from provider.oauth.issuance import Subject, mint_for_client, token_response
from provider.oauth.resources import requestable_scopes, resolve_target
from provider.oauth.scopes import parse_scope
from provider.storage.models import Client

# Scopes about a user make no sense without one.
USER_SCOPES = frozenset({"openid", "offline_access", "profile", "email", "address", "phone"})


async def client_credentials_grant(
    services: Services,
    caller: Caller,
    client: Client,
    params: dict[str, str],
    resources: tuple[str, ...] = (),
) -> dict[str, object]:
    if client.public:
        raise UnauthorizedClient("Public clients cannot use this grant.")
    scopes = parse_scope(params.get("scope", ""))
    # RFC 8707 §2: a token for the named resource servers, with the scopes they define.
    target = await resolve_target(services, client, resources) if resources else None
    allowed = requestable_scopes(client, target) - USER_SCOPES
    if not set(scopes) <= allowed:
        raise InvalidScope("The scope is not allowed for this client.")
    if target is not None:
        scopes = target.narrow(scopes)
    subject = Subject(user=None, session=None)
    access = mint_for_client(services, client, subject, scopes, target)
    return token_response(services, client, subject, scopes, access)
