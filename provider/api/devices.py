"""GET/DELETE /v1/auth/sessions: "your devices", and signing one or all of them out."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.api.guard import require_session
from provider.api.session_tokens import public_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.responses import ok
from provider.sessions.user_devices import live_sessions, sign_out_device, sign_out_other_devices

bp = Blueprint("api_devices", url_prefix="/v1/auth")


@bp.get("/sessions")
@api_doc.tag("account")
@api_doc.summary("The user's live sessions, newest first, with the current one flagged")
@api_doc.secured("bearer")
async def list_sessions(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    sessions = await live_sessions(services_of(request), auth.user.id)
    return ok(
        {
            "sessions": [
                {
                    **public_session(live.session, current=live.session.id == auth.session.id),
                    "location": live.location,
                }
                for live in sessions
            ]
        }
    )


@bp.delete("/sessions/<session_id:str>")
@api_doc.tag("account")
@api_doc.summary("Sign one of the user's sessions out")
@api_doc.secured("bearer")
async def delete_session(request: Request, session_id: str) -> HTTPResponse:
    auth = await require_session(request)
    ended = await sign_out_device(services_of(request), caller_of(request), auth.user, session_id)
    return ok({"revoked": True, "id": str(ended)})


@bp.delete("/sessions")
@api_doc.tag("account")
@api_doc.summary("Sign out every other session of the user")
@api_doc.secured("bearer")
async def delete_other_sessions(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    count = await sign_out_other_devices(
        services_of(request), caller_of(request), auth.user, auth.session
    )
    return ok({"revoked": count})
