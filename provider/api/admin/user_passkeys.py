"""GET /v1/admin/users/{id}/passkeys and DELETE /v1/admin/users/{id}/passkeys/{passkey_id}:
a user's passkeys, and removing one (a lost or suspected device), as the admin user page does."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts import administration
from provider.accounts.passkeys import admin_remove_passkey, passkeys_of
from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.admin_params import optional_body, path_uuid
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody
from provider.http.responses import ok

bp = Blueprint("api_admin_user_passkeys", url_prefix="/v1/admin/users")


class NoFields(StrictBody):
    """No parameters: no body, or `{}`."""


@bp.get("/<user_id:str>/passkeys")
@api_doc.tag("admin")
@api_doc.summary("The user's passkeys: id, name, created_at, last_used_at, synced (admin, auditor)")
@api_doc.secured("bearer")
async def list_passkeys(request: Request, user_id: str) -> HTTPResponse:
    await require_role(request, *READERS)
    target = await administration.find_target(path_uuid(user_id))
    return ok({"passkeys": [item.to_dict() for item in await passkeys_of(target.id)]})


@bp.delete("/<user_id:str>/passkeys/<passkey_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Remove one of the user's passkeys; audited as passkey.removed (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"removed": true, "id": passkey_id}')
async def remove_passkey(request: Request, user_id: str, passkey_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    target = await administration.find_target(path_uuid(user_id))
    await admin_remove_passkey(
        services_of(request), caller_of(request), auth.user, str(target.id), passkey_id
    )
    return ok({"removed": True, "id": passkey_id})
