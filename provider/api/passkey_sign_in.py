"""POST /v1/auth/passkeys/authentication/options and /v1/auth/passkeys/authentication: sign in
with a passkey, in two steps (WebAuthn L3 §7.2).

The first answers the standard PublicKeyCredentialRequestOptionsJSON and a `ceremony` token;
the app passes the options to navigator.credentials.get() (or the platform's passkey API) and
sends the credential back with the token. The second step is the `sign_in` of a password: the
same limits, lockout, audit and tokens, or the MFA challenge.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.login import SessionStart
from provider.accounts.passkey_authentication import PasskeyAnswer, begin_passkey_sign_in
from provider.accounts.sign_in import sign_in_with_passkey
from provider.api.session_tokens import sign_in_answer
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body, refuse_body
from provider.http.responses import ok
from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID

bp = Blueprint("api_passkey_sign_in", url_prefix="/v1/auth")


class PasskeyCredentialBody(StrictBody):
    ceremony: str = Field(min_length=1, max_length=128, description="from the options step")
    credential: dict[str, Any] = Field(
        description="the PublicKeyCredential as JSON (AuthenticationResponseJSON)"
    )


def passkey_answer(body: PasskeyCredentialBody) -> PasskeyAnswer:
    return PasskeyAnswer(body.ceremony, json.dumps(body.credential))


@bp.post("/passkeys/authentication/options")
@api_doc.tag("passkeys")
@api_doc.summary("Start a passkey sign-in: PublicKeyCredentialRequestOptions and a ceremony")
@api_doc.response(200, description='{"ceremony", "options", "expires_in"}')
@api_doc.response(429, description="rate_limited")
async def options(request: Request) -> HTTPResponse:
    services = services_of(request)
    refuse_body(request)
    started = await begin_passkey_sign_in(services, caller_of(request))
    return ok(
        {
            "ceremony": started.token,
            "options": json.loads(started.options),
            "expires_in": services.settings.passkey_challenge_ttl,
        }
    )


@bp.post("/passkeys/authentication")
@api_doc.tag("passkeys")
@api_doc.summary("Finish a passkey sign-in; returns tokens, or an MFA challenge")
@api_doc.description(
    "A passkey with user verification is two factors (amr hwk or swk, user, mfa). Without it, "
    "an account with TOTP answers `mfa_required` as `POST /v1/auth/sessions` does."
)
@api_doc.body({"application/json": PasskeyCredentialBody.model_json_schema()})
@api_doc.response(200, description="Token pair, user and session; or an MFA challenge")
@api_doc.response(400, description="invalid_passkey or invalid_passkey_challenge")
@api_doc.response(401, description="passkey_refused")
@api_doc.response(403, description="account_disabled")
@api_doc.response(423, description="account_locked")
@api_doc.response(429, description="rate_limited")
async def finish(request: Request) -> HTTPResponse:
    services = services_of(request)
    start = SessionStart(client_id=FIRST_PARTY_CLIENT_ID)
    outcome = await sign_in_with_passkey(
        services,
        caller_of(request),
        lambda: passkey_answer(parse_body(request, PasskeyCredentialBody)),
        start=start,
    )
    return await sign_in_answer(services, outcome)
