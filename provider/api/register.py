"""POST /v1/auth/register: create an account."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.users import public_user, sign_up
from provider.api.common import StrictBody, caller_of, client_ip, ok, parse_body, services_of
from provider.cache.ratelimit import Limit, enforce
from provider.errors import rate_limit_headers

bp = Blueprint("api_register", url_prefix="/v1/auth")


class RegisterBody(StrictBody):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(max_length=200)
    username: str | None = Field(default=None, min_length=1, max_length=64)


@bp.post("/register")
@openapi.tag("account")
@openapi.summary("Register an account; a verification link is mailed to the address")
@openapi.body({"application/json": RegisterBody.model_json_schema()})
@openapi.response(201, description="The new user")
@openapi.response(
    409,
    description="username_taken; email_taken only with PROVIDER_REGISTRATION_REVEALS_EXISTING",
)
async def register(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    limit = Limit("register_ip", settings.ratelimit_register_per_ip, settings.ratelimit_window)
    headers = rate_limit_headers(await enforce(services.cache, limit, client_ip(request)))
    body = parse_body(request, RegisterBody)
    caller = caller_of(request)
    user = await sign_up(
        services,
        caller,
        email=body.email,
        password=body.password,
        name=body.name,
        username=body.username,
    )
    return ok({"user": public_user(user)}, status=201, headers=headers)
