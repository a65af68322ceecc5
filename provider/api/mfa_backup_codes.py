"""POST /v1/auth/mfa/backup-codes: replace the backup codes, with the password and a code."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.mfa import regenerate_backup_codes
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_mfa_backup_codes", url_prefix="/v1/auth")


class RegenerateBody(StrictBody):
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=6, max_length=16, description="a TOTP or a backup code")


@bp.post("/mfa/backup-codes")
@api_doc.tag("mfa")
@api_doc.summary("New backup codes (the old ones stop working); shown only once")
@api_doc.secured("bearer")
@api_doc.body({"application/json": RegenerateBody.model_json_schema()})
@api_doc.response(200, description="backup_codes")
@api_doc.response(403, description="invalid_password or invalid_code (count toward lockout)")
@api_doc.response(409, description="mfa_not_enabled")
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
