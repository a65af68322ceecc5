"""POST /v1/auth/sessions: sign in with email or username and password."""

from __future__ import annotations

import unicodedata

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.authentication import authenticate_password
from provider.api.common import StrictBody, caller_of, ok, parse_body, services_of
from provider.api.session_tokens import FIRST_PARTY_CLIENT_ID, token_pair
from provider.cache.ratelimit import Limit, enforce
from provider.crypto.tokens import keyed_hash
from provider.ops.metrics import AUTH_OPERATIONS
from provider.sessions.service import issue_refresh_token, start_session
from provider.storage.unit_of_work import unit_of_work

bp = Blueprint("api_login", url_prefix="/v1/auth")


class LoginBody(StrictBody):
    identifier: str = Field(min_length=1, max_length=254, description="email or username")
    password: str = Field(min_length=1, max_length=256)


@bp.post("/sessions")
@openapi.tag("account")
@openapi.summary("Sign in; returns an access token, a refresh token and the session")
@openapi.body({"application/json": LoginBody.model_json_schema()})
@openapi.response(200, description="Token pair, user and session")
@openapi.response(401, description="invalid_credentials")
@openapi.response(423, description="account_locked")
async def login(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    caller = caller_of(request)
    window = settings.ratelimit_window
    headers = await enforce(
        services.cache, Limit("login_ip", settings.ratelimit_login_per_ip, window), caller.ip
    )
    body = parse_body(request, LoginBody)
    account_key = keyed_hash(
        settings.secret, unicodedata.normalize("NFKC", body.identifier).lower()
    )
    await enforce(
        services.cache,
        Limit("login_account", settings.ratelimit_login_per_account, window),
        account_key,
    )
    user = await authenticate_password(services, caller, body.identifier, body.password)
    async with unit_of_work(caller, services.events) as work:
        session = await start_session(work, settings, user, amr=["pwd"])
        refresh = await issue_refresh_token(
            work, settings, session, client_id=FIRST_PARTY_CLIENT_ID, scope=""
        )
        await work.audit(
            "user.login",
            user_id=user.id,
            session_id=session.id,
            client_id=FIRST_PARTY_CLIENT_ID,
            details={"amr": ["pwd"]},
        )
    AUTH_OPERATIONS.labels(operation="login", outcome="success").inc()
    return ok(token_pair(services, user, session, refresh.token), headers=headers)
