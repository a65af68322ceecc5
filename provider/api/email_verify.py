"""POST /v1/auth/email/verify: consume the token of a verification link."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.email_verification import verify_email
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import rate_limit_headers
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_email_verify", url_prefix="/v1/auth")


class VerifyEmailBody(StrictBody):
    token: str = Field(min_length=1, max_length=128, description="from the mailed link")


@bp.post("/email/verify")
@api_doc.tag("account")
@api_doc.summary("Verify the email address with the token of the mailed link (single use)")
@api_doc.body({"application/json": VerifyEmailBody.model_json_schema()})
@api_doc.response(200, description="The address is verified")
@api_doc.response(400, description="invalid_token: unknown, expired or already used")
async def verify(request: Request) -> HTTPResponse:
    services = services_of(request)
    caller = caller_of(request)
    verified = await verify_email(
        services, caller, lambda: parse_body(request, VerifyEmailBody).token
    )
    return ok({"email_verified": True}, headers=rate_limit_headers(verified.allowance))
