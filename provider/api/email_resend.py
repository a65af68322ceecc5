"""POST /v1/auth/email/resend: mail a new verification link to the signed-in user."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.email_verification import send_verification_email
from provider.api.common import caller_of, ok, refuse_body, services_of
from provider.api.guard import require_session
from provider.cache.ratelimit import Limit, enforce
from provider.errors import rate_limit_headers

bp = Blueprint("api_email_resend", url_prefix="/v1/auth")


@bp.post("/email/resend")
@openapi.tag("account")
@openapi.summary("Mail a new verification link (rate limited per user and per address)")
@openapi.secured("bearer")
@openapi.response(202, description="The mail is on its way")
@openapi.response(409, description="already_verified")
@openapi.response(429, description="rate_limited")
async def resend(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    services = services_of(request)
    settings = services.settings
    caller = caller_of(request)
    refuse_body(request)
    window = settings.ratelimit_mail_window
    await enforce(
        services.cache, Limit("mail_ip", settings.ratelimit_mail_per_ip, window), caller.ip
    )
    headers = rate_limit_headers(
        await enforce(
            services.cache,
            Limit("verify_mail_user", settings.ratelimit_mail_per_account, window),
            str(auth.user.id),
        )
    )
    await send_verification_email(services, caller, auth.user)
    return ok({"accepted": True}, status=202, headers=headers)
