"""POST /v1/auth/password/forgot: mail a reset link; the answer never tells if the user exists."""

from __future__ import annotations

import unicodedata

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.password_reset import request_password_reset
from provider.api.common import StrictBody, caller_of, ok, parse_body, services_of
from provider.cache.ratelimit import Limit, enforce
from provider.crypto.tokens import keyed_hash

bp = Blueprint("api_password_forgot", url_prefix="/v1/auth")

ACCEPTED = {
    "accepted": True,
    "message": "If an account uses this address, a link to reset its password is on its way.",
}


class ForgotBody(StrictBody):
    email: str = Field(min_length=1, max_length=254)


@bp.post("/password/forgot")
@openapi.tag("account")
@openapi.summary("Mail a password reset link; 202 whether or not the account exists")
@openapi.body({"application/json": ForgotBody.model_json_schema()})
@openapi.response(202, description="Accepted (the same answer for unknown addresses)")
@openapi.response(429, description="rate_limited (per IP and per address)")
async def forgot(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    caller = caller_of(request)
    window = settings.ratelimit_mail_window
    await enforce(
        services.cache, Limit("mail_ip", settings.ratelimit_mail_per_ip, window), caller.ip
    )
    body = parse_body(request, ForgotBody)
    email_key = keyed_hash(
        settings.secret, unicodedata.normalize("NFKC", body.email).strip().lower()
    )
    await enforce(
        services.cache,
        Limit("reset_mail_address", settings.ratelimit_mail_per_account, window),
        email_key,
    )
    await request_password_reset(services, caller, body.email)
    return ok(ACCEPTED, status=202)
