"""grant_type=client_credentials (RFC 6749 §4.4): the client acting on its own behalf."""

from __future__ import annotations

from provider.context import Caller, Services
from provider.domain_errors import InvalidScope, UnauthorizedClient
from provider.oauth.issuance import Subject, mint_for_client, token_response
from provider.oauth.scopes import parse_scope
from provider.storage.models import Client

# Scopes about a user make no sense without one.
USER_SCOPES = frozenset({"openid", "offline_access", "profile", "email", "address", "phone"})


async def client_credentials_grant(
    services: Services, caller: Caller, client: Client, params: dict[str, str]
) -> dict[str, object]:
    if client.public:
        raise UnauthorizedClient("Public clients cannot use this grant.")
    scopes = parse_scope(params.get("scope", ""))
    allowed = set(client.scopes) - USER_SCOPES
    if not set(scopes) <= allowed:
        raise InvalidScope("The scope is not allowed for this client.")
    subject = Subject(user=None, session=None)
    access = mint_for_client(services, client, subject, scopes)
    return token_response(services, client, subject, scopes, access)
