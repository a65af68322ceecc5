"""GET /v1/admin/users (search, filters, cursor pages), GET and PATCH /v1/admin/users/{id}."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.administration import (
    MAX_LOCK_SECONDS,
    AccountChanges,
    admin_user_view,
    change_account,
    find_target,
    user_detail,
)
from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.admin_listings import USER_LIST_PARAMS, users_page
from provider.http.admin_params import path_uuid, query_of
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.storage.models import User
from provider.storage.unit_of_work import utcnow

bp = Blueprint("api_admin_users", url_prefix="/v1/admin/users")


class UserPatch(StrictBody):
    role: Literal["user", "admin", "auditor"] | None = None
    locked: bool | None = None
    lock_seconds: int | None = Field(
        None, ge=1, le=MAX_LOCK_SECONDS, description="with locked=true; default: indefinitely"
    )
    email_verified: bool | None = None


@bp.get("")
@api_doc.tag("admin")
@api_doc.summary("Users: search, filters and cursor pagination (admin, auditor)")
@api_doc.description(
    "`q` matches email, username or name (case-insensitive). Filters: `role`, `status` "
    "(active|locked|deleted|unverified), `created_from`/`created_to` (ISO 8601). `sort`: "
    "created_at, -created_at (default) or email. `limit` ≤ 100; pass `next_cursor` back as "
    "`cursor` for the next page."
)
@api_doc.secured("bearer")
@api_doc.response(200, description='{"users": [...], "next_cursor": str | null}')
@api_doc.response(403, description="forbidden")
async def list_users(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    now = utcnow()
    users, next_cursor = await users_page(query_of(request, USER_LIST_PARAMS), now)
    return ok({"users": [admin_user_view(user, now) for user in users], "next_cursor": next_cursor})


async def _detail_response(request: Request, user: User) -> dict[str, Any]:
    return await user_detail(user, services_of(request).settings)


@bp.get("/<user_id:str>")
@api_doc.tag("admin")
@api_doc.summary("One user with sessions, MFA state and last sign-ins (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"user", "mfa", "sessions", "last_logins"}')
@api_doc.response(404, description="not_found")
async def get_user(request: Request, user_id: str) -> HTTPResponse:
    await require_role(request, *READERS)
    user = await find_target(path_uuid(user_id))
    return ok(await _detail_response(request, user))


@bp.patch("/<user_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Change role, lock or unlock, mark the email verified (admin)")
@api_doc.description(
    "`locked: true` locks indefinitely (or for `lock_seconds`) and ends every session; "
    "`locked: false` lifts any lock. Each change is audited."
)
@api_doc.secured("bearer")
@api_doc.body({"application/json": UserPatch.model_json_schema()})
@api_doc.response(200, description="The user as GET returns it")
@api_doc.response(409, description="own_account: not on your own account")
async def patch_user(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    target_id: uuid.UUID = path_uuid(user_id)
    body = parse_body(request, UserPatch)
    if body.role is None and body.locked is None and body.email_verified is None:
        raise ApiError(400, "invalid_request", "Send at least one of role, locked, email_verified.")
    user = await find_target(target_id)
    changes = AccountChanges(
        role=body.role,
        email_verified=body.email_verified,
        locked=body.locked,
        lock_seconds=body.lock_seconds,
    )
    await change_account(services_of(request), caller_of(request), auth.user, user, changes)
    return ok(await _detail_response(request, user))
