"""POST /v1/auth/mfa/totp (start) and /v1/auth/mfa/totp/confirm: turn TOTP on, in two steps."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.mfa import confirm_totp_enrolment, start_totp_enrolment
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body, refuse_body
from provider.http.responses import ok

bp = Blueprint("api_mfa_enrol", url_prefix="/v1/auth")


class ConfirmBody(StrictBody):
    code: str = Field(min_length=6, max_length=16, description="from the authenticator app")


@bp.post("/mfa/totp")
@api_doc.tag("mfa")
@api_doc.summary("Start TOTP enrolment: a new secret, its otpauth:// URI and a QR code")
@api_doc.secured("bearer")
@api_doc.response(200, description="secret, otpauth_uri, qr_svg_data_uri")
@api_doc.response(403, description="reauthentication_required")
@api_doc.response(409, description="mfa_already_enabled")
async def start(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    refuse_body(request)
    enrolment = await start_totp_enrolment(
        services_of(request), caller_of(request), auth.user, auth.session
    )
    return ok(
        {
            "secret": enrolment.secret,
            "otpauth_uri": enrolment.otpauth_uri,
            "qr_svg_data_uri": enrolment.qr_svg_data_uri,
        }
    )


@bp.post("/mfa/totp/confirm")
@api_doc.tag("mfa")
@api_doc.summary("Confirm TOTP with a first code; returns 10 backup codes, shown only once")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ConfirmBody.model_json_schema()})
@api_doc.response(200, description="backup_codes")
@api_doc.response(400, description="invalid_code")
@api_doc.response(403, description="reauthentication_required")
@api_doc.response(409, description="mfa_already_enabled or mfa_enrolment_not_started")
async def confirm(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, ConfirmBody)
    codes = await confirm_totp_enrolment(
        services_of(request), caller_of(request), auth.user, auth.session, body.code
    )
    return ok({"mfa_enabled": True, "backup_codes": codes})
