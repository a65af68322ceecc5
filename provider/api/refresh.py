"""POST /v1/auth/tokens/refresh: rotate a refresh token into a new token pair."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.limits import admit_refresh
from provider.api.session_tokens import FIRST_PARTY_CLIENT_ID, token_pair
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError, rate_limit_headers
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.ops.metrics import AUTH_OPERATIONS
from provider.sessions.service import RefreshRejected, rotate_refresh_token

bp = Blueprint("api_refresh", url_prefix="/v1/auth")


class RefreshBody(StrictBody):
    refresh_token: str = Field(min_length=1, max_length=512)


@bp.post("/tokens/refresh")
@openapi.tag("account")
@openapi.summary("Exchange a refresh token for a new pair (rotation; reuse revokes the family)")
@openapi.body({"application/json": RefreshBody.model_json_schema()})
@openapi.response(200, description="New token pair")
@openapi.response(401, description="invalid_refresh_token")
async def refresh(request: Request) -> HTTPResponse:
    services = services_of(request)
    caller = caller_of(request)
    headers = rate_limit_headers((await admit_refresh(services, caller)).allowance)
    body = parse_body(request, RefreshBody)
    try:
        rotation = await rotate_refresh_token(
            services, caller, body.refresh_token, FIRST_PARTY_CLIENT_ID
        )
    except RefreshRejected as exc:
        AUTH_OPERATIONS.labels(operation="refresh", outcome=exc.reason).inc()
        raise ApiError(
            401, "invalid_refresh_token", "The refresh token is invalid, expired or revoked."
        ) from exc
    AUTH_OPERATIONS.labels(operation="refresh", outcome="success").inc()
    pair = token_pair(services, rotation.user, rotation.session, rotation.refresh_token)
    return ok(pair, headers=headers)
