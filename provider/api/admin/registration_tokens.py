"""/v1/admin/registration-tokens: initial access tokens for dynamic client registration
(RFC 7591 §3): mint (the token is in the response, once), list, revoke (admin)."""

from __future__ import annotations

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.admin_params import optional_body
from provider.http.admin_views import initial_access_token_view
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody
from provider.http.responses import ok
from provider.oauth.initial_access_tokens import (
    MAX_NOTE_LENGTH,
    MAX_USES,
    initial_access_tokens,
    mint_initial_access_token,
    revoke_initial_access_token,
)

bp = Blueprint("api_admin_registration_tokens", url_prefix="/v1/admin/registration-tokens")


class TokenCreate(StrictBody):
    uses: int = Field(1, ge=1, le=MAX_USES, description="registrations it allows")
    ttl: int | None = Field(
        None, ge=60, le=365 * 86_400, description="default: PROVIDER_INITIAL_ACCESS_TOKEN_TTL"
    )
    note: str = Field("", max_length=MAX_NOTE_LENGTH)


class NoFields(StrictBody):
    """No parameters: no body, or `{}`."""


@bp.post("")
@api_doc.tag("admin")
@api_doc.summary("Mint an initial access token; the token is in the response, once (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": TokenCreate.model_json_schema()})
@api_doc.response(201, description='{"token": {...}, "initial_access_token": str}')
async def create(request: Request) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = optional_body(request, TokenCreate)
    services = services_of(request)
    minted = await mint_initial_access_token(
        services.settings,
        services.events,
        caller_of(request),
        uses=body.uses,
        ttl=body.ttl,
        note=body.note,
        created_by=str(auth.user.id),
    )
    view = initial_access_token_view(minted.row)
    return ok({"token": view, "initial_access_token": minted.token}, status=201)


@bp.get("")
@api_doc.tag("admin")
@api_doc.summary("Initial access tokens, newest first, never the tokens (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"tokens": [...]}')
async def list_tokens(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok({"tokens": [initial_access_token_view(t) for t in await initial_access_tokens()]})


@bp.delete("/<token_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Revoke an initial access token (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"revoked": true}')
@api_doc.response(404, description="not_found")
async def revoke(request: Request, token_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    services = services_of(request)
    await revoke_initial_access_token(
        services.events, caller_of(request), token_id, by=str(auth.user.id)
    )
    return ok({"revoked": True})
