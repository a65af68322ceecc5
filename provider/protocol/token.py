"""POST /token (RFC 6749 §3.2): authenticate the client, then run its grant."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sanic import Request
from sanic.response import HTTPResponse

from provider.context import Caller, Services
from provider.crypto.keys import KeyUnusable
from provider.domain_errors import ProtocolRefusal
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import OAuthError, oauth_error
from provider.http.params import form_params, form_resources
from provider.http.responses import protocol_json
from provider.oauth.grants.authorization_code import authorization_code_grant
from provider.oauth.grants.client_credentials import client_credentials_grant
from provider.oauth.grants.refresh_token import refresh_token_grant
from provider.ops.metrics import AUTH_OPERATIONS
from provider.protocol.client_auth import authenticate_client
from provider.storage.models import Client

bp = Blueprint("token")
log = logging.getLogger("provider.token")
Grant = Callable[
    [Services, Caller, Client, dict[str, str], tuple[str, ...]], Awaitable[dict[str, object]]
]
GRANTS: dict[str, Grant] = {
    "authorization_code": authorization_code_grant,
    "refresh_token": refresh_token_grant,
    "client_credentials": client_credentials_grant,
}
# RFC 6749 §5.1: responses with tokens MUST NOT be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.post("/token")
async def token(request: Request) -> HTTPResponse:
    services = services_of(request)
    params = form_params(request)
    client = await authenticate_client(
        request, params, services, services.settings.issuer + "/token"
    )
    grant_type = params.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError("unsupported_grant_type", "This grant type is not supported.")
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client", "This client may not use this grant type.")
    _ensure_signing_keys(services, client)
    try:
        # RFC 8707 §2.2: the resource servers the access token is for.
        resources = form_resources(request)
        body = await grant(services, caller_of(request), client, params, resources)
    except ProtocolRefusal as exc:
        AUTH_OPERATIONS.labels(operation=grant_type, outcome=exc.code).inc()
        raise oauth_error(exc) from exc
    AUTH_OPERATIONS.labels(operation=grant_type, outcome="success").inc()
    return protocol_json(body, headers=NO_STORE)


def _ensure_signing_keys(services: Services, client: Client) -> None:
    """Refuse before any single-use token is consumed when a key the client needs is gone."""
    try:
        services.keystore.signing_key(client.access_token_signed_response_alg)
        services.keystore.signing_key(client.id_token_signed_response_alg)
    except KeyUnusable as exc:
        log.error("no signing key for client", extra={"client_id": client.id, "err": str(exc)})
        raise OAuthError(
            "server_error", "No key can sign tokens for this client.", status=500
        ) from exc
