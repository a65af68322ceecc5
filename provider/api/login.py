"""POST /v1/auth/sessions: sign in with email or username and password."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.authentication import authenticate_password
from provider.accounts.identity import identifier_key
from provider.accounts.login import AMR_PASSWORD, finish_login, start_mfa_challenge
from provider.accounts.mfa import METHODS, mfa_enabled
from provider.api.common import StrictBody, caller_of, ok, parse_body, services_of
from provider.api.session_tokens import FIRST_PARTY_CLIENT_ID, login_response
from provider.cache.ratelimit import Limit, enforce
from provider.crypto.tokens import keyed_hash
from provider.errors import rate_limit_headers
from provider.storage.unit_of_work import unit_of_work

bp = Blueprint("api_login", url_prefix="/v1/auth")


class LoginBody(StrictBody):
    identifier: str = Field(min_length=1, max_length=254, description="email or username")
    password: str = Field(min_length=1, max_length=256)


@bp.post("/sessions")
@openapi.tag("account")
@openapi.summary("Sign in; returns tokens, or an MFA challenge when two-factor is on")
@openapi.description(
    'With two-factor authentication on, the answer is `{"mfa_required": true, "mfa_token", '
    '"methods", "expires_in"}`: send the token with a code to `POST /v1/auth/mfa/verify`.'
)
@openapi.body({"application/json": LoginBody.model_json_schema()})
@openapi.response(200, description="Token pair, user and session; or an MFA challenge")
@openapi.response(401, description="invalid_credentials")
@openapi.response(423, description="account_locked")
async def login(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    caller = caller_of(request)
    window = settings.ratelimit_window
    headers = rate_limit_headers(
        await enforce(
            services.cache, Limit("login_ip", settings.ratelimit_login_per_ip, window), caller.ip
        )
    )
    body = parse_body(request, LoginBody)
    account_key = keyed_hash(settings.secret, identifier_key(body.identifier))
    await enforce(
        services.cache,
        Limit("login_account", settings.ratelimit_login_per_account, window),
        account_key,
    )
    user = await authenticate_password(services, caller, body.identifier, body.password)
    if mfa_enabled(user):
        challenge = await start_mfa_challenge(services, caller, user)
        return ok(
            {
                "mfa_required": True,
                "mfa_token": challenge,
                "methods": list(METHODS),
                "expires_in": settings.mfa_token_ttl,
            },
            headers=headers,
        )
    async with unit_of_work(caller, services.events) as work:
        completed = await finish_login(
            work, services, user, amr=list(AMR_PASSWORD), client_id=FIRST_PARTY_CLIENT_ID
        )
    return ok(login_response(services, completed), headers=headers)
