"""POST /v1/auth/tokens/refresh: rotate a refresh token into a new token pair."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.api.session_tokens import login_response
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import rate_limit_headers
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.oauth.first_party import refresh_first_party

bp = Blueprint("api_refresh", url_prefix="/v1/auth")


class RefreshBody(StrictBody):
    refresh_token: str = Field(min_length=1, max_length=512)


@bp.post("/tokens/refresh")
@api_doc.tag("account")
@api_doc.summary("Exchange a refresh token for a new pair (rotation; reuse revokes the family)")
@api_doc.body({"application/json": RefreshBody.model_json_schema()})
@api_doc.response(200, description="New token pair")
@api_doc.response(401, description="invalid_refresh_token")
async def refresh(request: Request) -> HTTPResponse:
    refreshed = await refresh_first_party(
        services_of(request),
        caller_of(request),
        lambda: parse_body(request, RefreshBody).refresh_token,
    )
    headers = rate_limit_headers(refreshed.allowance)
    return ok(login_response(refreshed.tokens), headers=headers)
