"""GET /v1/admin/users (search, filters, cursor pages), GET and PATCH /v1/admin/users/{id}."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from provider.accounts.administration import (
    MAX_LOCK_SECONDS,
    STATUSES,
    admin_user_view,
    find_target,
    lock_user,
    set_email_verified,
    set_role,
    unlock_user,
    user_detail,
)
from provider.api.admin.params import (
    cursor_datetime,
    cursor_str,
    cursor_uuid,
    datetime_of,
    decode_cursor,
    encode_cursor,
    invalid,
    limit_of,
    path_uuid,
    query_of,
)
from provider.api.admin.roles import ADMIN, READERS, require_role
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.storage.models import ROLES, User
from provider.storage.unit_of_work import unit_of_work, utcnow

bp = Blueprint("api_admin_users", url_prefix="/v1/admin/users")

SORTS = ("created_at", "-created_at", "email")
LIST_PARAMS = {"q", "role", "status", "created_from", "created_to", "sort", "limit", "cursor"}


class UserPatch(StrictBody):
    role: Literal["user", "admin", "auditor"] | None = None
    locked: bool | None = None
    lock_seconds: int | None = Field(
        None, ge=1, le=MAX_LOCK_SECONDS, description="with locked=true; default: indefinitely"
    )
    email_verified: bool | None = None


def _status_filter(query: QuerySet[User], status: str, now: datetime) -> QuerySet[User]:
    if status == "deleted":
        return query.filter(deleted_at__isnull=False)
    query = query.filter(deleted_at__isnull=True)
    if status == "locked":
        return query.filter(locked_until__gt=now)
    not_locked = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    if status == "unverified":
        return query.filter(not_locked, email_verified_at__isnull=True)
    return query.filter(not_locked, email_verified_at__isnull=False)


def _filtered(params: dict[str, str], now: datetime) -> QuerySet[User]:
    query = User.all()
    if "q" in params:
        text = params["q"]
        query = query.filter(
            Q(email__icontains=text) | Q(username__icontains=text) | Q(name__icontains=text)
        )
    if "role" in params:
        if params["role"] not in ROLES:
            raise invalid("role", f"must be one of {', '.join(ROLES)}")
        query = query.filter(role=params["role"])
    if "status" in params:
        if params["status"] not in STATUSES:
            raise invalid("status", f"must be one of {', '.join(STATUSES)}")
        query = _status_filter(query, params["status"], now)
    if "created_from" in params:
        query = query.filter(created_at__gte=datetime_of("created_from", params["created_from"]))
    if "created_to" in params:
        end = datetime_of("created_to", params["created_to"], end_of_day=True)
        query = query.filter(created_at__lte=end)
    return query


def _after_cursor(query: QuerySet[User], sort: str, cursor: str) -> QuerySet[User]:
    """Keyset pagination on (sort key, id): stable however rows are added meanwhile."""
    key, last_id = decode_cursor(cursor, f"users:{sort}", 2)
    after_id = cursor_uuid(last_id)
    if sort == "email":
        email = cursor_str(key, 254)
        return query.filter(Q(email__gt=email) | Q(email=email, id__gt=after_id))
    created = cursor_datetime(key)
    if sort == "created_at":
        return query.filter(Q(created_at__gt=created) | Q(created_at=created, id__gt=after_id))
    return query.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=after_id))


def _order(sort: str) -> tuple[str, str]:
    if sort == "email":
        return ("email", "id")
    if sort == "created_at":
        return ("created_at", "id")
    return ("-created_at", "-id")


def _cursor_for(user: User, sort: str) -> str:
    key = user.email if sort == "email" else user.created_at.isoformat()
    return encode_cursor(f"users:{sort}", [key, str(user.id)])


@bp.get("")
@openapi.tag("admin")
@openapi.summary("Users: search, filters and cursor pagination (admin, auditor)")
@openapi.description(
    "`q` matches email, username or name (case-insensitive). Filters: `role`, `status` "
    "(active|locked|deleted|unverified), `created_from`/`created_to` (ISO 8601). `sort`: "
    "created_at, -created_at (default) or email. `limit` ≤ 100; pass `next_cursor` back as "
    "`cursor` for the next page."
)
@openapi.secured("bearer")
@openapi.response(200, description='{"users": [...], "next_cursor": str | null}')
@openapi.response(403, description="forbidden")
async def list_users(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    now = utcnow()
    users, next_cursor = await users_page(query_of(request, LIST_PARAMS), now)
    return ok({"users": [admin_user_view(user, now) for user in users], "next_cursor": next_cursor})


async def users_page(params: dict[str, str], now: datetime) -> tuple[list[User], str | None]:
    """One page of users matching `params` (see LIST_PARAMS), and the next page's cursor."""
    sort = params.get("sort", "-created_at")
    if sort not in SORTS:
        raise invalid("sort", f"must be one of {', '.join(SORTS)}")
    limit = limit_of(params)
    query = _filtered(params, now)
    if "cursor" in params:
        query = _after_cursor(query, sort, params["cursor"])
    users = await query.order_by(*_order(sort)).limit(limit + 1)
    page = users[:limit]
    return page, _cursor_for(page[-1], sort) if len(users) > limit else None


async def _detail_response(request: Request, user: User) -> dict[str, Any]:
    return await user_detail(user, services_of(request).settings)


@bp.get("/<user_id:str>")
@openapi.tag("admin")
@openapi.summary("One user with sessions, MFA state and last sign-ins (admin, auditor)")
@openapi.secured("bearer")
@openapi.response(200, description='{"user", "mfa", "sessions", "last_logins"}')
@openapi.response(404, description="not_found")
async def get_user(request: Request, user_id: str) -> HTTPResponse:
    await require_role(request, *READERS)
    user = await find_target(path_uuid(user_id))
    return ok(await _detail_response(request, user))


@bp.patch("/<user_id:str>")
@openapi.tag("admin")
@openapi.summary("Change role, lock or unlock, mark the email verified (admin)")
@openapi.description(
    "`locked: true` locks indefinitely (or for `lock_seconds`) and ends every session; "
    "`locked: false` lifts any lock. Each change is audited."
)
@openapi.secured("bearer")
@openapi.body({"application/json": UserPatch.model_json_schema()})
@openapi.response(200, description="The user as GET returns it")
@openapi.response(409, description="own_account: not on your own account")
async def patch_user(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    target_id: uuid.UUID = path_uuid(user_id)
    body = parse_body(request, UserPatch)
    if body.role is None and body.locked is None and body.email_verified is None:
        raise ApiError(400, "invalid_request", "Send at least one of role, locked, email_verified.")
    if body.lock_seconds is not None and body.locked is not True:
        raise ApiError(400, "invalid_request", "lock_seconds goes with locked: true.")
    services = services_of(request)
    user = await find_target(target_id)
    async with unit_of_work(caller_of(request), services.events) as work:
        if body.role is not None:
            await set_role(work, auth.user, user, body.role)
        if body.email_verified is not None:
            await set_email_verified(work, auth.user, user, body.email_verified)
        if body.locked is True:
            await lock_user(work, auth.user, user, body.lock_seconds)
        elif body.locked is False:
            await unlock_user(work, auth.user, user)
    return ok(await _detail_response(request, user))
