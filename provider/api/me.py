"""GET /v1/auth/me: the signed-in user."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.profile import public_profile
from provider.accounts.users import public_user
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.responses import ok

bp = Blueprint("api_me", url_prefix="/v1/auth")


@bp.get("/me")
@api_doc.tag("account")
@api_doc.summary("The signed-in user")
@api_doc.secured("bearer")
async def me(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    return ok(
        {
            "user": public_user(auth.user),
            "profile": public_profile(auth.user),
            "session_id": str(auth.session.id),
        }
    )
