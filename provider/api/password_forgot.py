"""POST /v1/auth/password/forgot: mail a reset link; the answer never tells if the user exists."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.password_reset import RESET_MAIL_PROMISE, forgot_password
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_password_forgot", url_prefix="/v1/auth")

ACCEPTED = {"accepted": True, "message": RESET_MAIL_PROMISE}


class ForgotBody(StrictBody):
    email: str = Field(min_length=1, max_length=254)


@bp.post("/password/forgot")
@api_doc.tag("account")
@api_doc.summary("Mail a password reset link; 202 whether or not the account exists")
@api_doc.body({"application/json": ForgotBody.model_json_schema()})
@api_doc.response(202, description="Accepted (the same answer for unknown addresses)")
@api_doc.response(429, description="rate_limited (per IP and per address)")
async def forgot(request: Request) -> HTTPResponse:
    await forgot_password(
        services_of(request), caller_of(request), lambda: parse_body(request, ForgotBody).email
    )
    return ok(ACCEPTED, status=202)
