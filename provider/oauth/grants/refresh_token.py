"""grant_type=refresh_token (RFC 6749 §6): rotation and reuse detection of the core."""

from __future__ import annotations

from provider.context import Caller, Services
from provider.domain_errors import InvalidGrant, InvalidProtocolRequest
from provider.oauth.issuance import (
    check_narrowing,
    refresh_for_client,
    target_of_grant,
    token_response,
)
from provider.oauth.scopes import parse_scope
from provider.oauth.token_lookup import find_refresh_token
from provider.sessions.service import RefreshRejected
from provider.storage.models import Client


async def refresh_token_grant(
    services: Services,
    caller: Caller,
    client: Client,
    params: dict[str, str],
    resources: tuple[str, ...] = (),
) -> dict[str, object]:
    presented = params.get("refresh_token")
    if not presented:
        raise InvalidProtocolRequest("refresh_token is required.")
    requested = parse_scope(params["scope"]) if "scope" in params else None
    if requested is not None or resources:
        # Checked before rotating: a refused request must leave a live token usable, or the
        # client's retry would be taken for theft. A used one still goes on to reuse detection.
        row = await find_refresh_token(presented)
        if row is not None and row.client_id == client.id and row.used_at is None:
            if requested is not None:
                check_narrowing(requested, row.scope.split())
            await target_of_grant(services, client, row.resources or [], list(resources))
    try:
        refreshed = await refresh_for_client(
            services, caller, client, presented, requested, list(resources)
        )
    except RefreshRejected as exc:
        raise InvalidGrant("The refresh token is invalid, expired or revoked.") from exc
    subject = refreshed.subject
    return token_response(
        services,
        client,
        subject,
        refreshed.scopes,
        refreshed.access,
        refresh_token=refreshed.refresh_token,
    )
