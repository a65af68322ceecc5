"""PATCH /v1/auth/me: the signed-in user edits their profile (OIDC standard claims)."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.profile import public_profile, update_profile
from provider.accounts.users import public_user
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_profile", url_prefix="/v1/auth")


class AddressBody(StrictBody):
    formatted: str | None = Field(default=None, max_length=1024)
    street_address: str | None = Field(default=None, max_length=1024)
    locality: str | None = Field(default=None, max_length=1024)
    region: str | None = Field(default=None, max_length=1024)
    postal_code: str | None = Field(default=None, max_length=1024)
    country: str | None = Field(default=None, max_length=1024)


class ProfileBody(StrictBody):
    """Only the fields sent change; null clears one. The rules are the core's."""

    name: str | None = Field(default=None, max_length=1024)
    given_name: str | None = Field(default=None, max_length=1024)
    family_name: str | None = Field(default=None, max_length=1024)
    username: str | None = Field(default=None, max_length=1024)
    locale: str | None = Field(default=None, max_length=1024)
    zoneinfo: str | None = Field(default=None, max_length=1024)
    picture: str | None = Field(default=None, max_length=4096)
    phone_number: str | None = Field(default=None, max_length=1024)
    address: AddressBody | None = None


@bp.patch("/me")
@api_doc.tag("account")
@api_doc.summary("Edit the signed-in user's profile")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ProfileBody.model_json_schema()})
@api_doc.response(200, description="The user and their profile as stored")
@api_doc.response(409, description="username_taken")
@api_doc.response(422, description="validation_failed: details name each refused field")
async def edit_profile(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, ProfileBody)
    changes = {
        field: value.model_dump(exclude_none=True) if isinstance(value, AddressBody) else value
        for field, value in ((name, getattr(body, name)) for name in body.model_fields_set)
    }
    user = await update_profile(
        services_of(request), caller_of(request), auth.user, auth.session, changes
    )
    return ok({"user": public_user(user), "profile": public_profile(user)})
