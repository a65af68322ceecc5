"""POST /revoke (RFC 7009): end a refresh token's family, or deny an access token."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, empty

from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import OAuthError
from provider.http.params import form_params
from provider.oauth.revocation import revoke_token
from provider.protocol.client_auth import authenticate_client

bp = Blueprint("revoke")


@bp.post("/revoke")
async def revoke(request: Request) -> HTTPResponse:
    services = services_of(request)
    params = form_params(request)
    client = await authenticate_client(
        request, params, services, services.settings.issuer + "/revoke"
    )
    token = params.get("token")
    if not token:
        raise OAuthError("invalid_request", "token is required.")
    await revoke_token(services, caller_of(request), client, token)
    # RFC 7009 §2.2: 200 whether or not the token was valid, so nothing is revealed.
    return empty(status=200, headers={"Cache-Control": "no-store"})
