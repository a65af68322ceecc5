"""DELETE /v1/auth/mfa/totp: turn TOTP off, with the password and a current code."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.mfa import disable_totp
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_mfa_disable", url_prefix="/v1/auth")


class DisableBody(StrictBody):
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=6, max_length=16, description="a TOTP or a backup code")


# ignore_body=False: Sanic skips the body of DELETE requests unless told otherwise.
@bp.delete("/mfa/totp", ignore_body=False)
@api_doc.tag("mfa")
@api_doc.summary("Turn two-factor authentication off (password AND a TOTP or backup code)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": DisableBody.model_json_schema()})
@api_doc.response(200, description="Two-factor authentication is off")
@api_doc.response(403, description="invalid_password or invalid_code (count toward lockout)")
@api_doc.response(409, description="mfa_not_enabled")
async def disable(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, DisableBody)
    await disable_totp(
        services_of(request),
        caller_of(request),
        auth.user,
        auth.session,
        password=body.password,
        code=body.code,
    )
    return ok({"mfa_enabled": False})
