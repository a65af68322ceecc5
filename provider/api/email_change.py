"""/v1/auth/email/change: ask to change the address, then confirm or cancel with a mailed token."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.email_change import (
    cancel_email_change,
    confirm_email_change,
    request_email_change,
)
from provider.accounts.users import public_user
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_email_change", url_prefix="/v1/auth")


class ChangeBody(StrictBody):
    new_email: str = Field(min_length=1, max_length=320)
    current_password: str | None = Field(default=None, min_length=1, max_length=256)


class TokenBody(StrictBody):
    token: str = Field(min_length=1, max_length=128)


@bp.post("/email/change")
@api_doc.tag("account")
@api_doc.summary("Ask to change the email address; links go to the new and the old address")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ChangeBody.model_json_schema()})
@api_doc.response(202, description="The links are on their way; nothing has changed yet")
@api_doc.response(403, description="reauthentication_required (no password), invalid_password")
@api_doc.response(409, description="email_taken")
@api_doc.response(422, description="validation_failed: not an acceptable address")
@api_doc.response(429, description="rate_limited (per IP and per account)")
async def change(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, ChangeBody)
    pending = await request_email_change(
        services_of(request),
        caller_of(request),
        auth.user,
        auth.session,
        new_address=body.new_email,
        current_password=body.current_password,
    )
    return ok({"pending_email": pending}, status=202)


@bp.post("/email/change/confirm")
@api_doc.tag("account")
@api_doc.summary("Confirm the new address with the token mailed to it")
@api_doc.body({"application/json": TokenBody.model_json_schema()})
@api_doc.response(200, description="The address is changed and verified")
@api_doc.response(409, description="email_taken: another account took the address meanwhile")
@api_doc.response(400, description="invalid_token: unknown, expired or already used")
@api_doc.response(429, description="rate_limited")
async def confirm(request: Request) -> HTTPResponse:
    body = parse_body(request, TokenBody)
    user = await confirm_email_change(services_of(request), caller_of(request), body.token)
    return ok({"user": public_user(user)})


@bp.post("/email/change/cancel")
@api_doc.tag("account")
@api_doc.summary("Cancel (or undo) a change with the token mailed to the old address")
@api_doc.body({"application/json": TokenBody.model_json_schema()})
@api_doc.response(200, description="The address is the old one")
@api_doc.response(400, description="invalid_token: unknown, expired or already used")
@api_doc.response(429, description="rate_limited")
async def cancel(request: Request) -> HTTPResponse:
    body = parse_body(request, TokenBody)
    user = await cancel_email_change(services_of(request), caller_of(request), body.token)
    return ok({"user": public_user(user)})
