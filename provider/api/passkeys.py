"""GET /v1/auth/passkeys, PATCH and DELETE /v1/auth/passkeys/{id}: the user's passkeys.

Removing one needs a recent sign-in, and the last way to sign in cannot be removed
(provider.accounts.passkeys).
"""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.passkeys import passkeys_of, remove_passkey, rename_passkey
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body, refuse_body
from provider.http.responses import ok

bp = Blueprint("api_passkeys", url_prefix="/v1/auth")


class RenameBody(StrictBody):
    name: str = Field(min_length=1, max_length=64)


@bp.get("/passkeys")
@api_doc.tag("passkeys")
@api_doc.summary("The user's passkeys: id, name, created_at, last_used_at, synced, transports")
@api_doc.secured("bearer")
async def list_passkeys(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    return ok({"passkeys": [item.to_dict() for item in await passkeys_of(auth.user.id)]})


@bp.patch("/passkeys/<passkey_id:str>")
@api_doc.tag("passkeys")
@api_doc.summary("Rename one of the user's passkeys")
@api_doc.secured("bearer")
@api_doc.body({"application/json": RenameBody.model_json_schema()})
@api_doc.response(404, description="not_found")
async def rename(request: Request, passkey_id: str) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, RenameBody)
    renamed = await rename_passkey(
        services_of(request), caller_of(request), auth.user, auth.session, passkey_id, body.name
    )
    return ok(renamed.to_dict())


@bp.delete("/passkeys/<passkey_id:str>")
@api_doc.tag("passkeys")
@api_doc.summary("Remove one of the user's passkeys (after a recent sign-in)")
@api_doc.secured("bearer")
@api_doc.response(403, description="reauthentication_required")
@api_doc.response(404, description="not_found")
@api_doc.response(409, description="last_sign_in_method")
async def remove(request: Request, passkey_id: str) -> HTTPResponse:
    auth = await require_session(request)
    refuse_body(request)
    await remove_passkey(
        services_of(request), caller_of(request), auth.user, auth.session, passkey_id
    )
    return ok({"removed": True, "id": passkey_id})
