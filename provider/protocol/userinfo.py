"""GET|POST /userinfo (OIDC Core §5.3): claims of the token's user, by granted scope."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.http.bearer import bearer_token
from provider.http.blueprint import Blueprint
from provider.http.context import services_of
from provider.http.errors import OAuthError
from provider.http.params import form_params
from provider.http.responses import protocol_json
from provider.oauth.access_check import check_access_token
from provider.oauth.app_claims import app_claims
from provider.oauth.claims import user_claims
from provider.oauth.clients import find_active_client
from provider.sessions.access_tokens import InvalidAccessToken

bp = Blueprint("userinfo")


def invalid_token(description: str) -> OAuthError:
    # RFC 6750 §3.1: 401 with the error in the Bearer challenge.
    return OAuthError(
        "invalid_token",
        description,
        status=401,
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )


def _presented_token(request: Request) -> str:
    header_token = bearer_token(request)
    body_token = None
    if request.method == "POST" and request.content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        body_token = form_params(request).get("access_token")
    if header_token and body_token:
        # RFC 6750 §2: a client MUST NOT use more than one method to send the token.
        raise OAuthError("invalid_request", "Send the token in one place only.")
    token = header_token or body_token
    if not token:
        raise OAuthError("invalid_token", "", status=401, headers={"WWW-Authenticate": "Bearer"})
    return token


async def userinfo(request: Request) -> HTTPResponse:
    services = services_of(request)
    token = _presented_token(request)
    try:
        checked = await check_access_token(services, token)
    except InvalidAccessToken as exc:
        raise invalid_token("The access token is invalid, expired or revoked.") from exc
    scopes = str(checked.claims.get("scope", "")).split()
    if checked.user is None or "openid" not in scopes:
        raise OAuthError(
            "insufficient_scope",
            "The token does not carry the openid scope.",
            status=403,
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="openid"'},
        )
    client = await find_active_client(
        services, str(checked.claims.get("client_id")), read=checked.client_version
    )
    claims = {
        **user_claims(checked.user, scopes),
        **await app_claims(client, checked.user.id, scopes),
    }
    return protocol_json(claims, headers={"Cache-Control": "no-store"})


# OIDC Core §3.1.2.1 / §5.3.1: both GET and POST are served.
bp.add_route(userinfo, "/userinfo", methods=["GET", "POST"])
