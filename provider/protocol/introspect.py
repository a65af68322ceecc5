"""POST /introspect (RFC 7662): is this token active, and what does it carry."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from provider.cache.base import CacheUnavailable
from provider.context import Services
from provider.http.blueprint import Blueprint
from provider.http.context import services_of
from provider.http.errors import OAuthError
from provider.http.params import form_params
from provider.http.responses import protocol_json
from provider.oauth.access_check import AccessCheck, complete_access_check, plan_access_check
from provider.oauth.token_lookup import find_refresh_token, looks_like_jwt
from provider.protocol.client_auth import authenticate_client_reading, invalid_client
from provider.sessions.access_tokens import InvalidAccessToken
from provider.sessions.service import session_is_live
from provider.storage.models import Client
from provider.storage.unit_of_work import utcnow

bp = Blueprint("introspect")
INACTIVE = {"active": False}


@bp.post("/introspect")
async def introspect(request: Request) -> HTTPResponse:
    services = services_of(request)
    params = form_params(request)
    token = params.get("token")
    # An access token is verified before the client is authenticated (its result is shown only
    # after), so that its denylist keys are read with the client's version in one round trip.
    check: AccessCheck | None = None
    if token and looks_like_jwt(token):
        with suppress(InvalidAccessToken):
            check = plan_access_check(services, token, with_user=False)
    client, values = await authenticate_client_reading(
        request,
        params,
        services,
        services.settings.issuer + "/introspect",
        check.keys if check is not None else [],
    )
    if client.public:
        # RFC 7662 §2.1: the endpoint MUST require authorization, and a client_id proves nothing
        # (discovery lists no "none" method for introspection).
        raise invalid_client(False, "Public clients cannot introspect tokens.")
    if not token:
        raise OAuthError("invalid_request", "token is required.")
    if looks_like_jwt(token):
        body = await _access_token(services, client, check, values)
    else:
        body = await _refresh_token(services, client, token)
    return protocol_json(body, headers={"Cache-Control": "no-store"})


def may_see(caller: Client, claims: dict[str, Any]) -> bool:
    """RFC 7662 §2.2/§4: a token is shown to the client it was issued to, to a resource server its
    audience names (by client id), or to a client registered with `introspect_any`; to any other
    caller it is simply not active, so tokens cannot be probed."""
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    return caller.introspect_any or claims.get("client_id") == caller.id or caller.id in audiences


async def _access_token(
    services: Services, caller: Client, check: AccessCheck | None, values: list[str | None] | None
) -> dict[str, Any]:
    if check is None:
        return INACTIVE
    try:
        if values is None:
            values = await services.cache.strict().get_many(check.keys)
        checked = await complete_access_check(services, check, values)
    except (InvalidAccessToken, CacheUnavailable):
        # CacheUnavailable: the denylist cannot be read, so the token cannot be vouched for.
        return INACTIVE
    claims = checked.claims
    if not may_see(caller, claims):
        return INACTIVE
    keys = (
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "jti",
        "sid",
        "auth_time",
        "roles",
        "groups",
    )
    body = {"active": True, "token_type": "Bearer"}
    body.update({key: claims[key] for key in keys if key in claims})
    # Only a username the user chose: an email address is not given out as one.
    if checked.username:
        body["username"] = checked.username
    return body


async def _refresh_token(services: Services, client: Client, token: str) -> dict[str, Any]:
    row = await find_refresh_token(token)
    now = utcnow()
    if (
        row is None
        or row.client_id != client.id  # RFC 7662 §2.2: do not reveal other clients' tokens
        or row.used_at is not None
        or row.revoked_at is not None
        or row.expires_at <= now
        or not session_is_live(row.session, services.settings, now)
    ):
        return INACTIVE
    body: dict[str, Any] = {
        "active": True,
        "token_type": "refresh_token",
        "client_id": row.client_id,
        "sub": str(row.user_id),
        "scope": row.scope,
        "iss": services.settings.issuer,
        "exp": int(row.expires_at.timestamp()),
        "iat": int(row.created_at.timestamp()),
        "sid": str(row.session_id),
    }
    if row.resources:
        # RFC 7662 §2.2 `aud`: the resource servers its grant may name (RFC 8707).
        body["aud"] = row.resources
    return body
