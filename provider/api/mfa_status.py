"""GET /v1/auth/mfa: whether two-factor authentication is on, and how many backup codes are left."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.mfa import mfa_status
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.responses import ok

bp = Blueprint("api_mfa_status", url_prefix="/v1/auth")


@bp.get("/mfa")
@api_doc.tag("mfa")
@api_doc.summary("Two-factor status of the signed-in user")
@api_doc.secured("bearer")
async def status(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    return ok(await mfa_status(auth.user))
