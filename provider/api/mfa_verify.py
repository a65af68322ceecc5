"""POST /v1/auth/mfa/verify: the second step of a login with two-factor authentication."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.login import SessionStart
from provider.accounts.second_factor import SecondFactorAnswer, complete_second_factor
from provider.api.session_tokens import FIRST_PARTY_CLIENT_ID, login_response
from provider.http.context import caller_of, services_of
from provider.http.errors import rate_limit_headers
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_mfa_verify", url_prefix="/v1/auth")


class VerifyBody(StrictBody):
    mfa_token: str = Field(min_length=1, max_length=128, description="from POST /sessions")
    code: str = Field(min_length=6, max_length=16, description="a TOTP or a backup code")


@bp.post("/mfa/verify")
@openapi.tag("mfa")
@openapi.summary("Finish a login with a TOTP or backup code; returns the token pair")
@openapi.body({"application/json": VerifyBody.model_json_schema()})
@openapi.response(200, description="Token pair, user and session (amr pwd+otp+mfa)")
@openapi.response(401, description="invalid_code (counts toward lockout) or invalid_mfa_token")
@openapi.response(423, description="account_locked")
async def verify(request: Request) -> HTTPResponse:
    services = services_of(request)
    caller = caller_of(request)
    accepted = await complete_second_factor(
        services, caller, lambda: _answer(request), start=SessionStart(FIRST_PARTY_CLIENT_ID)
    )
    return ok(
        login_response(services, accepted.login), headers=rate_limit_headers(accepted.allowance)
    )


def _answer(request: Request) -> SecondFactorAnswer:
    body = parse_body(request, VerifyBody)
    return SecondFactorAnswer(body.mfa_token, body.code)
