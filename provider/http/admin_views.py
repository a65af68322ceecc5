"""What the admin API returns and the admin pages show of a client and of an audit row."""

from __future__ import annotations

from typing import Any

from provider.storage.models import AuditEvent, Client, InitialAccessToken
from provider.storage.unit_of_work import utcnow


def client_view(client: Client) -> dict[str, Any]:
    """A client's registration, never a secret or its hash."""
    now = utcnow()
    grace = client.previous_secret_expires_at
    return {
        "client_id": client.id,
        "name": client.name,
        "public": client.public,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types,
        "scopes": client.scopes,
        "audience": client.audience,
        "first_party": client.first_party,
        # admin, dynamic (RFC 7591) or metadata_document: the last two are not vouched for.
        "registration": client.registration,
        "introspect_any": client.introspect_any,
        "disabled": client.disabled,
        "require_mfa": client.require_mfa,
        "require_verified_email": client.require_verified_email,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "jwks_uri": client.jwks_uri,
        "logo_uri": client.logo_uri,
        "has_jwks": client.jwks is not None,
        "previous_secret_expires_at": grace.isoformat() if grace and grace > now else None,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
    }


def initial_access_token_view(token: InitialAccessToken) -> dict[str, Any]:
    """An initial access token's bookkeeping; the token itself is never stored."""
    return {
        "id": str(token.id),
        "note": token.note,
        "uses_left": token.uses_left,
        "expires_at": token.expires_at.isoformat(),
        "expired": token.expires_at <= utcnow(),
        "created_by": token.created_by,
        "created_at": token.created_at.isoformat(),
    }


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "event": event.event,
        "outcome": event.outcome,
        "user_id": str(event.user_id) if event.user_id else None,
        "session_id": str(event.session_id) if event.session_id else None,
        "client_id": event.client_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "details": event.details,
    }
