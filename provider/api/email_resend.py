"""POST /v1/auth/email/resend: mail a new verification link to the signed-in user."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.email_verification import resend_verification
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import rate_limit_headers
from provider.http.json_body import refuse_body
from provider.http.responses import ok

bp = Blueprint("api_email_resend", url_prefix="/v1/auth")


@bp.post("/email/resend")
@api_doc.tag("account")
@api_doc.summary("Mail a new verification link (rate limited per user and per address)")
@api_doc.secured("bearer")
@api_doc.response(202, description="The mail is on its way")
@api_doc.response(409, description="already_verified")
@api_doc.response(429, description="rate_limited")
async def resend(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    services = services_of(request)
    caller = caller_of(request)
    refuse_body(request)
    headers = rate_limit_headers(await resend_verification(services, caller, auth.user))
    return ok({"accepted": True}, status=202, headers=headers)
