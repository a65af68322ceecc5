"""Delete my account (with a grace period), restore it within that period, export my data."""

from __future__ import annotations

import json

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.account_deletion import delete_own_account, restore_own_account
from provider.accounts.account_export import export_account
from provider.accounts.users import public_user
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_account_deletion", url_prefix="/v1/auth")


class DeleteBody(StrictBody):
    current_password: str | None = Field(default=None, min_length=1, max_length=256)


class RestoreBody(StrictBody):
    identifier: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


@bp.post("/me/delete")
@api_doc.tag("account")
@api_doc.summary("Delete the account; it can be restored until purge_after")
@api_doc.secured("bearer")
@api_doc.body({"application/json": DeleteBody.model_json_schema()})
@api_doc.response(200, description="Deleted; every session has ended")
@api_doc.response(403, description="invalid_password, reauthentication_required")
@api_doc.response(409, description="last_admin, already_deleted")
@api_doc.response(423, description="account_locked")
async def delete_me(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, DeleteBody)
    user = await delete_own_account(
        services_of(request),
        caller_of(request),
        auth.user,
        auth.session,
        current_password=body.current_password,
    )
    purge_after = user.purge_after.isoformat() if user.purge_after else None
    return ok({"deleted": True, "purge_after": purge_after})


@bp.post("/account/restore")
@api_doc.tag("account")
@api_doc.summary("Restore an account its owner deleted, during the grace period")
@api_doc.body({"application/json": RestoreBody.model_json_schema()})
@api_doc.response(200, description="Restored; sign in as usual")
@api_doc.response(401, description="invalid_credentials")
@api_doc.response(409, description="not_deleted: nothing to restore, or the period is over")
@api_doc.response(423, description="account_locked")
@api_doc.response(429, description="rate_limited")
async def restore(request: Request) -> HTTPResponse:
    body = parse_body(request, RestoreBody)
    user = await restore_own_account(
        services_of(request),
        caller_of(request),
        identifier=body.identifier,
        password=body.password,
    )
    return ok({"restored": True, "user": public_user(user)})


@bp.get("/me/export")
@api_doc.tag("account")
@api_doc.summary("Everything held about the user, as a JSON download")
@api_doc.secured("bearer")
async def export(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    document = await export_account(auth.user)
    return HTTPResponse(
        json.dumps(document, indent=2),
        content_type="application/json",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="my-account.json"',
        },
    )
