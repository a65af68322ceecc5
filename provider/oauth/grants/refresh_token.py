"""grant_type=refresh_token (RFC 6749 §6): rotation and reuse detection of the core."""

from __future__ import annotations

from provider.context import Caller, Services
from provider.domain_errors import InvalidGrant, InvalidProtocolRequest, InvalidScope
from provider.oauth.app_claims import app_claims
from provider.oauth.issuance import Subject, mint_for_client, token_response
from provider.oauth.scopes import parse_scope
from provider.oauth.token_lookup import find_refresh_token
from provider.sessions.service import RefreshRejected, rotate_refresh_token
from provider.storage.models import Client


async def refresh_token_grant(
    services: Services, caller: Caller, client: Client, params: dict[str, str]
) -> dict[str, object]:
    presented = params.get("refresh_token")
    if not presented:
        raise InvalidProtocolRequest("refresh_token is required.")
    requested = parse_scope(params["scope"]) if "scope" in params else None
    if requested is not None:
        # Checked before rotating: a refused request must leave a live token usable, or the
        # client's retry would be taken for theft. A used one still goes on to reuse detection.
        row = await find_refresh_token(presented)
        if row is not None and row.client_id == client.id and row.used_at is None:
            _check_narrowing(requested, row.scope.split())
    try:
        rotation = await rotate_refresh_token(services, caller, presented, client.id)
    except RefreshRejected as exc:
        raise InvalidGrant("The refresh token is invalid, expired or revoked.") from exc
    granted = rotation.scope.split()
    scopes = granted
    if requested is not None:
        _check_narrowing(requested, granted)
        scopes = requested
    subject = Subject(
        user=rotation.user,
        session=rotation.session,
        app_claims=await app_claims(client, rotation.user.id, scopes),
    )
    access = mint_for_client(services, client, subject, scopes)
    return token_response(
        services, client, subject, scopes, access, refresh_token=rotation.refresh_token
    )


def _check_narrowing(requested: list[str], granted: list[str]) -> None:
    # RFC 6749 §6: the scope MUST NOT include any scope not originally granted.
    if not set(requested) <= set(granted):
        raise InvalidScope("The scope exceeds what was granted.")
