"""POST /v1/auth/mfa/backup-codes: replace the backup codes, with the password and a code."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.mfa import regenerate_backup_codes
from provider.api.guard import require_session
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_mfa_backup_codes", url_prefix="/v1/auth")


class RegenerateBody(StrictBody):
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=6, max_length=16, description="a TOTP or a backup code")


@bp.post("/mfa/backup-codes")
@openapi.tag("mfa")
@openapi.summary("New backup codes (the old ones stop working); shown only once")
@openapi.secured("bearer")
@openapi.body({"application/json": RegenerateBody.model_json_schema()})
@openapi.response(200, description="backup_codes")
@openapi.response(403, description="invalid_password or invalid_code (count toward lockout)")
@openapi.response(409, description="mfa_not_enabled")
async def regenerate(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, RegenerateBody)
    codes = await regenerate_backup_codes(
        services_of(request),
        caller_of(request),
        auth.user,
        auth.session,
        password=body.password,
        code=body.code,
    )
    return ok({"backup_codes": codes})
