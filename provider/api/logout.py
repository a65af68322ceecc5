"""POST /v1/auth/logout (this session) and /v1/auth/logout-all (every session)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.responses import ok
from provider.sessions.sign_out import sign_out, sign_out_everywhere

bp = Blueprint("api_logout", url_prefix="/v1/auth")


@bp.post("/logout")
@api_doc.tag("account")
@api_doc.summary("End the current session and its refresh tokens")
@api_doc.secured("bearer")
async def logout(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    await sign_out(
        services_of(request), caller_of(request), user_id=auth.user.id, session_id=auth.session.id
    )
    return ok({"logged_out": True})


@bp.post("/logout-all")
@api_doc.tag("account")
@api_doc.summary("End every session of the user, this one included")
@api_doc.secured("bearer")
async def logout_all(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    count = await sign_out_everywhere(
        services_of(request), caller_of(request), user_id=auth.user.id, session_id=auth.session.id
    )
    return ok({"logged_out": True, "revoked": count})
