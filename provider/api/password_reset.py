"""POST /v1/auth/password/reset: set a new password with the token of a reset link."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.password_reset import NewPassword, reset_password
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import rate_limit_headers
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_password_reset", url_prefix="/v1/auth")


class ResetBody(StrictBody):
    token: str = Field(min_length=1, max_length=128, description="from the mailed link")
    password: str = Field(min_length=1, max_length=256)


@bp.post("/password/reset")
@api_doc.tag("account")
@api_doc.summary("Choose a new password with a reset token; signs out every session")
@api_doc.body({"application/json": ResetBody.model_json_schema()})
@api_doc.response(200, description="The password is changed")
@api_doc.response(400, description="invalid_token: unknown, expired or already used")
@api_doc.response(422, description="validation_failed: the password policy refuses it")
async def reset(request: Request) -> HTTPResponse:
    services = services_of(request)
    caller = caller_of(request)
    reset = await reset_password(services, caller, lambda: _new_password(request))
    return ok({"password_reset": True}, headers=rate_limit_headers(reset.allowance))


def _new_password(request: Request) -> NewPassword:
    body = parse_body(request, ResetBody)
    return NewPassword(body.token, body.password)
