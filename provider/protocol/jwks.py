"""GET /jwks: the published signing keys (precomputed body, ETag, cacheable)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, empty, raw

from provider.http.blueprint import Blueprint
from provider.http.context import services_of

bp = Blueprint("jwks")


@bp.get("/jwks")
async def jwks(request: Request) -> HTTPResponse:
    keystore = services_of(request).keystore
    headers = {"ETag": keystore.jwks_etag, "Cache-Control": "public, max-age=300"}
    if request.headers.get("if-none-match") == keystore.jwks_etag:
        return empty(status=304, headers=headers)
    return raw(keystore.jwks_body, content_type="application/jwk-set+json", headers=headers)
