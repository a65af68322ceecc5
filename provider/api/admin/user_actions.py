"""Actions on one account: revoke sessions, force a password reset, delete, restore (admin)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts import administration
from provider.accounts.roles import ADMIN
from provider.api.admin.roles import require_role
from provider.http.admin_params import optional_body, path_uuid
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody
from provider.http.responses import ok
from provider.storage.unit_of_work import utcnow

bp = Blueprint("api_admin_user_actions", url_prefix="/v1/admin/users")


class NoFields(StrictBody):
    """These actions take no parameters: no body, or `{}`."""


@bp.post("/<user_id:str>/revoke-sessions")
@openapi.tag("admin")
@openapi.summary("End every session and refresh-token family of the user (admin)")
@openapi.secured("bearer")
@openapi.response(200, description='{"revoked": n}')
async def revoke_sessions(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.end_sessions(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"revoked": revoked})


@bp.post("/<user_id:str>/force-password-reset")
@openapi.tag("admin")
@openapi.summary("End every session and require a new password (admin)")
@openapi.description(
    "The current password stops working at once; the user is mailed a reset link and can "
    "also ask for one with forgot-password."
)
@openapi.secured("bearer")
@openapi.response(200, description='{"revoked": n, "reset_mail": true}')
async def force_password_reset(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.require_password_reset(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"revoked": revoked, "reset_mail": True})


@bp.post("/<user_id:str>/reset-mfa")
@openapi.tag("admin")
@openapi.summary("Remove the user's second factor and end every session (admin)")
@openapi.description(
    "For a user who lost their authenticator and backup codes: TOTP and backup codes are "
    "deleted, every session and refresh-token family ends, and the user is mailed."
)
@openapi.secured("bearer")
@openapi.response(200, description='{"mfa_enabled": false, "revoked": n}')
@openapi.response(409, description="mfa_not_enabled, own_account")
async def reset_mfa(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.reset_second_factor(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"mfa_enabled": False, "revoked": revoked})


@bp.delete("/<user_id:str>")
@openapi.tag("admin")
@openapi.summary("Soft-delete the user; every session ends at once (admin)")
@openapi.secured("bearer")
@openapi.response(200, description='{"deleted": true, "revoked": n}')
@openapi.response(409, description="already_deleted, own_account")
async def delete_user(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.delete_account(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"deleted": True, "revoked": revoked})


@bp.post("/<user_id:str>/restore")
@openapi.tag("admin")
@openapi.summary("Undo a soft delete (admin)")
@openapi.secured("bearer")
@openapi.response(200, description='{"user": {...}}')
@openapi.response(409, description="not_deleted")
async def restore_user(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    await administration.restore_account(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"user": administration.admin_user_view(target, utcnow())})
