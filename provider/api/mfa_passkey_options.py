"""POST /v1/auth/mfa/passkey/options: the request options of the challenged user's passkeys,
to answer the second step of a sign-in (POST /v1/auth/mfa/verify) with a passkey."""

from __future__ import annotations

import json

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.second_factor import begin_passkey_second_step
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_mfa_passkey_options", url_prefix="/v1/auth")


class OptionsBody(StrictBody):
    mfa_token: str = Field(min_length=1, max_length=128, description="from POST /sessions")


@bp.post("/mfa/passkey/options")
@api_doc.tag("mfa")
@api_doc.summary("Passkey options for the second step: PublicKeyCredentialRequestOptions")
@api_doc.body({"application/json": OptionsBody.model_json_schema()})
@api_doc.response(200, description='{"ceremony", "options", "expires_in"}')
@api_doc.response(400, description="invalid_request: the account has no passkey")
@api_doc.response(401, description="invalid_mfa_token")
@api_doc.response(429, description="rate_limited")
async def options(request: Request) -> HTTPResponse:
    services = services_of(request)
    body = parse_body(request, OptionsBody)
    started = await begin_passkey_second_step(services, caller_of(request), body.mfa_token)
    return ok(
        {
            "ceremony": started.token,
            "options": json.loads(started.options),
            "expires_in": services.settings.passkey_challenge_ttl,
        }
    )
