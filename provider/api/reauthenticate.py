"""POST /v1/auth/reauthenticate: prove the signed-in user again, for actions that need it."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.reauthentication import reauthenticate, reauthenticate_with_passkey
from provider.api.guard import require_session
from provider.api.passkey_sign_in import PasskeyCredentialBody, passkey_answer
from provider.api.session_tokens import login_response
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID, tokens_for_login

bp = Blueprint("api_reauthenticate", url_prefix="/v1/auth")


class ReauthenticateBody(StrictBody):
    password: str | None = Field(None, min_length=1, max_length=256)
    code: str | None = Field(
        None, min_length=6, max_length=16, description="TOTP or backup code; required with MFA on"
    )
    passkey: PasskeyCredentialBody | None = Field(
        None,
        description="instead of the password: a ceremony of /passkeys/authentication/options "
        "and the credential",
    )


@bp.post("/reauthenticate")
@api_doc.tag("account")
@api_doc.summary("Confirm the password (and second factor), or a passkey; returns fresh tokens")
@api_doc.description(
    "Enrolling TOTP needs a sign-in or re-authentication within "
    "`PROVIDER_REAUTHENTICATION_MAX_AGE` seconds (answer 403 `reauthentication_required`)."
)
@api_doc.secured("bearer")
@api_doc.body({"application/json": ReauthenticateBody.model_json_schema()})
@api_doc.response(200, description="Token pair, user and session")
@api_doc.response(400, description="invalid_request (a code is needed with MFA on)")
@api_doc.response(401, description="invalid_token or session_revoked")
@api_doc.response(403, description="invalid_password or invalid_code (count toward lockout)")
@api_doc.response(423, description="account_locked")
@api_doc.response(429, description="rate_limited")
async def reauthenticate_session(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, ReauthenticateBody)
    services = services_of(request)
    if (body.password is None) == (body.passkey is None):
        raise ApiError(400, "invalid_request", "Send either the password or a passkey.")
    if body.passkey is not None:
        completed = await reauthenticate_with_passkey(
            services,
            caller_of(request),
            auth.user,
            auth.session,
            passkey_answer(body.passkey),
            client_id=FIRST_PARTY_CLIENT_ID,
        )
    else:
        completed = await reauthenticate(
            services,
            caller_of(request),
            auth.user,
            auth.session,
            password=body.password or "",
            code=body.code,
            client_id=FIRST_PARTY_CLIENT_ID,
        )
    return ok(login_response(await tokens_for_login(services, completed)))
