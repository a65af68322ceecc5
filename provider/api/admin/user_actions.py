"""Actions on one account: revoke sessions, force a password reset, delete, restore (admin)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts import administration
from provider.accounts.roles import ADMIN
from provider.api.admin.roles import require_role
from provider.http import api_doc
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
@api_doc.tag("admin")
@api_doc.summary("End every session and refresh-token family of the user (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"revoked": n}')
async def revoke_sessions(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.end_sessions(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"revoked": revoked})


@bp.post("/<user_id:str>/force-password-reset")
@api_doc.tag("admin")
@api_doc.summary("End every session and require a new password (admin)")
@api_doc.description(
    "The current password stops working at once; the user is mailed a reset link and can "
    "also ask for one with forgot-password."
)
@api_doc.secured("bearer")
@api_doc.response(200, description='{"revoked": n, "reset_mail": true}')
async def force_password_reset(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.require_password_reset(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"revoked": revoked, "reset_mail": True})


@bp.post("/<user_id:str>/reset-mfa")
@api_doc.tag("admin")
@api_doc.summary("Remove the user's second factor and end every session (admin)")
@api_doc.description(
    "For a user who lost their authenticator and backup codes: TOTP and backup codes are "
    "deleted, every session and refresh-token family ends, and the user is mailed."
)
@api_doc.secured("bearer")
@api_doc.response(200, description='{"mfa_enabled": false, "revoked": n}')
@api_doc.response(409, description="mfa_not_enabled, own_account")
async def reset_mfa(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.reset_second_factor(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"mfa_enabled": False, "revoked": revoked})


@bp.delete("/<user_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Soft-delete the user; every session ends at once (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"deleted": true, "revoked": n}')
@api_doc.response(409, description="already_deleted, own_account")
async def delete_user(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    revoked = await administration.delete_account(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"deleted": True, "revoked": revoked})


@bp.post("/<user_id:str>/restore")
@api_doc.tag("admin")
@api_doc.summary("Undo a soft delete (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"user": {...}}')
@api_doc.response(409, description="not_deleted")
async def restore_user(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    await administration.restore_account(
        services_of(request), caller_of(request), auth.user, target
    )
    return ok({"user": administration.admin_user_view(target, utcnow())})
