"""POST /v1/auth/register: create an account."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.users import Registration, public_user, sign_up
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import rate_limit_headers
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_register", url_prefix="/v1/auth")


class RegisterBody(StrictBody):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(max_length=200)
    username: str | None = Field(default=None, min_length=1, max_length=64)


@bp.post("/register")
@api_doc.tag("account")
@api_doc.summary("Register an account; a verification link is mailed to the address")
@api_doc.body({"application/json": RegisterBody.model_json_schema()})
@api_doc.response(201, description="The new user")
@api_doc.response(
    409,
    description="username_taken; email_taken only with PROVIDER_REGISTRATION_REVEALS_EXISTING",
)
async def register(request: Request) -> HTTPResponse:
    services = services_of(request)
    caller = caller_of(request)
    registered = await sign_up(services, caller, lambda: _registration(request))
    headers = rate_limit_headers(registered.allowance)
    return ok({"user": public_user(registered.user)}, status=201, headers=headers)


def _registration(request: Request) -> Registration:
    body = parse_body(request, RegisterBody)
    return Registration(body.email, body.password, body.name, body.username)
