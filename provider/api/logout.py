"""POST /v1/auth/logout (this session) and /v1/auth/logout-all (every session)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.api.guard import require_session
from provider.http.context import caller_of, services_of
from provider.http.responses import ok
from provider.sessions.service import revoke_session, revoke_user_sessions
from provider.storage.unit_of_work import unit_of_work

bp = Blueprint("api_logout", url_prefix="/v1/auth")


@bp.post("/logout")
@openapi.tag("account")
@openapi.summary("End the current session and its refresh tokens")
@openapi.secured("bearer")
async def logout(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    async with unit_of_work(caller_of(request), services_of(request).events) as work:
        await revoke_session(work, auth.session.id, auth.user.id, reason="logout")
        await work.audit("user.logout", user_id=auth.user.id, session_id=auth.session.id)
    return ok({"logged_out": True})


@bp.post("/logout-all")
@openapi.tag("account")
@openapi.summary("End every session of the user, this one included")
@openapi.secured("bearer")
async def logout_all(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    async with unit_of_work(caller_of(request), services_of(request).events) as work:
        count = await revoke_user_sessions(work, auth.user.id, reason="logout_all")
        await work.audit(
            "user.logout", user_id=auth.user.id, session_id=auth.session.id, details={"all": True}
        )
    return ok({"logged_out": True, "revoked": count})
