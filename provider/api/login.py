"""POST /v1/auth/sessions: sign in with email or username and password."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.login import SessionStart
from provider.accounts.sign_in import Credentials, sign_in
from provider.api.session_tokens import sign_in_answer
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID

bp = Blueprint("api_login", url_prefix="/v1/auth")


class LoginBody(StrictBody):
    identifier: str = Field(min_length=1, max_length=254, description="email or username")
    password: str = Field(min_length=1, max_length=256)


@bp.post("/sessions")
@api_doc.tag("account")
@api_doc.summary("Sign in; returns tokens, or an MFA challenge when two-factor is on")
@api_doc.description(
    'With two-factor authentication on, the answer is `{"mfa_required": true, "mfa_token", '
    '"methods", "expires_in"}`: send the token with a code to `POST /v1/auth/mfa/verify`.'
)
@api_doc.body({"application/json": LoginBody.model_json_schema()})
@api_doc.response(200, description="Token pair, user and session; or an MFA challenge")
@api_doc.response(401, description="invalid_credentials")
@api_doc.response(423, description="account_locked")
async def login(request: Request) -> HTTPResponse:
    services = services_of(request)
    caller = caller_of(request)
    # The per-address limit comes first: a body that does not parse spends the budget too.
    start = SessionStart(client_id=FIRST_PARTY_CLIENT_ID)
    outcome = await sign_in(services, caller, lambda: _credentials(request), start=start)
    return await sign_in_answer(services, outcome)


def _credentials(request: Request) -> Credentials:
    body = parse_body(request, LoginBody)
    return Credentials(body.identifier, body.password)
