"""POST /v1/auth/password/change: a signed-in user replaces their password."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.password_reset import change_password
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_password_change", url_prefix="/v1/auth")


class ChangeBody(StrictBody):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


@bp.post("/password/change")
@api_doc.tag("account")
@api_doc.summary("Change the password; every other session is signed out")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ChangeBody.model_json_schema()})
@api_doc.response(200, description="The password is changed")
@api_doc.response(403, description="invalid_password (counts toward the lockout)")
@api_doc.response(422, description="validation_failed: the password policy refuses it")
@api_doc.response(423, description="account_locked")
async def change(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    services = services_of(request)
    body = parse_body(request, ChangeBody)
    revoked = await change_password(
        services,
        caller_of(request),
        auth.user,
        auth.session,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return ok({"password_changed": True, "revoked_sessions": revoked})
