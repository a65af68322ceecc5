"""POST /v1/auth/mfa/verify: the second step of a login with two-factor authentication, with
a code or a passkey (its options from POST /v1/auth/mfa/passkey/options)."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.login import SessionStart
from provider.accounts.second_factor import SecondFactorAnswer, complete_second_factor
from provider.api.passkey_sign_in import PasskeyCredentialBody, passkey_answer
from provider.api.session_tokens import login_response
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError, rate_limit_headers
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID, tokens_for_login

bp = Blueprint("api_mfa_verify", url_prefix="/v1/auth")


class VerifyBody(StrictBody):
    mfa_token: str = Field(min_length=1, max_length=128, description="from POST /sessions")
    code: str | None = Field(
        None, min_length=6, max_length=16, description="a TOTP or a backup code"
    )
    passkey: PasskeyCredentialBody | None = Field(
        None, description="instead of a code: the ceremony and credential of a passkey"
    )


@bp.post("/mfa/verify")
@api_doc.tag("mfa")
@api_doc.summary("Finish a login with a TOTP or backup code, or a passkey; returns tokens")
@api_doc.body({"application/json": VerifyBody.model_json_schema()})
@api_doc.response(200, description="Token pair, user and session (amr pwd+otp|hwk|swk+mfa)")
@api_doc.response(401, description="invalid_code (counts toward lockout) or invalid_mfa_token")
@api_doc.response(423, description="account_locked")
async def verify(request: Request) -> HTTPResponse:
    services = services_of(request)
    caller = caller_of(request)
    accepted = await complete_second_factor(
        services, caller, lambda: _answer(request), start=SessionStart(FIRST_PARTY_CLIENT_ID)
    )
    return ok(
        login_response(await tokens_for_login(services, accepted.login)),
        headers=rate_limit_headers(accepted.allowance),
    )


def _answer(request: Request) -> SecondFactorAnswer:
    body = parse_body(request, VerifyBody)
    if (body.code is None) == (body.passkey is None):
        raise ApiError(400, "invalid_request", "Send either a code or a passkey.")
    if body.passkey is not None:
        return SecondFactorAnswer(body.mfa_token, passkey=passkey_answer(body.passkey))
    return SecondFactorAnswer(body.mfa_token, body.code or "")
