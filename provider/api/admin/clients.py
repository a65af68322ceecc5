"""/v1/admin/clients: register, list, read, update, rotate the secret, disable, delete (admin).

Each action is a use case of provider.oauth.client_admin, which the admin console calls too;
registration and updates are checked with the rules the CLI uses (validate_spec).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.admin_listings import clients_page
from provider.http.admin_params import optional_body, query_of
from provider.http.admin_views import client_view
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError
from provider.http.json_body import StrictBody, parse_body
from provider.http.params import path_client_id
from provider.http.responses import ok
from provider.oauth.client_admin import (
    client_for_admin,
    client_to_change,
    delete_client,
    disable_client,
    register_client,
    rotate_client_secret,
    update_client,
)
from provider.oauth.clients import ClientSpec, ClientSpecError

bp = Blueprint("api_admin_clients", url_prefix="/v1/admin/clients")

Uri = Annotated[str, Field(min_length=1, max_length=2048)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Scope = Annotated[str, Field(min_length=1, max_length=64)]
GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
MAX_GRACE_SECONDS = 30 * 86_400


def _default_grants() -> list[GrantType]:
    return ["authorization_code", "refresh_token"]


class ClientCreate(StrictBody):
    name: Name
    redirect_uris: list[Uri] = Field(default_factory=list, max_length=32)
    post_logout_redirect_uris: list[Uri] = Field(default_factory=list, max_length=32)
    grant_types: list[GrantType] = Field(default_factory=_default_grants, max_length=3)
    scopes: list[Scope] = Field(default_factory=list, max_length=32)
    public: bool = False
    first_party: bool = False
    introspect_any: bool = Field(False, description="may introspect other clients' tokens")
    token_endpoint_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] | None
    ) = None
    id_token_signed_response_alg: Literal["RS256", "ES256", "Ed25519"] = "RS256"
    audience: str = Field("", max_length=512)
    jwks: dict[str, Any] | None = None
    jwks_uri: Uri | None = None
    logo_uri: Uri | None = Field(None, description="https image shown on sign-in and consent")


class ClientPatch(StrictBody):
    name: Name | None = None
    redirect_uris: list[Uri] | None = Field(None, max_length=32)
    post_logout_redirect_uris: list[Uri] | None = Field(None, max_length=32)
    scopes: list[Scope] | None = Field(None, max_length=32)
    grant_types: list[GrantType] | None = Field(None, max_length=3)
    first_party: bool | None = None
    introspect_any: bool | None = None
    disabled: bool | None = None
    audience: str | None = Field(None, max_length=512)
    logo_uri: str | None = Field(None, max_length=2048, description='"" removes the logo')


class Rotation(StrictBody):
    grace_seconds: int | None = Field(
        None, ge=0, le=MAX_GRACE_SECONDS, description="default: PROVIDER_CLIENT_SECRET_GRACE_PERIOD"
    )


class NoFields(StrictBody):
    """No parameters: no body, or `{}`."""


def _invalid_metadata(exc: ClientSpecError) -> ApiError:
    return ApiError(400, "invalid_client_metadata", str(exc))


@bp.post("")
@api_doc.tag("admin")
@api_doc.summary("Register a client; the secret is in the response, once (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ClientCreate.model_json_schema()})
@api_doc.response(201, description='{"client": {...}, "client_secret": str | null}')
@api_doc.response(400, description="invalid_request, invalid_client_metadata")
async def create(request: Request) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, ClientCreate)
    spec = ClientSpec(
        name=body.name,
        redirect_uris=list(body.redirect_uris),
        post_logout_redirect_uris=list(body.post_logout_redirect_uris),
        grant_types=list(body.grant_types),
        scopes=list(body.scopes),
        public=body.public,
        first_party=body.first_party,
        introspect_any=body.introspect_any,
        auth_method=body.token_endpoint_auth_method,
        id_token_alg=body.id_token_signed_response_alg,
        audience=body.audience,
        jwks=body.jwks,
        jwks_uri=body.jwks_uri,
        logo_uri=body.logo_uri,
    )
    try:
        client, secret = await register_client(
            services_of(request), caller_of(request), auth.user, spec
        )
    except ClientSpecError as exc:
        raise _invalid_metadata(exc) from exc
    return ok({"client": client_view(client), "client_secret": secret}, status=201)


@bp.get("")
@api_doc.tag("admin")
@api_doc.summary("Registered clients, oldest first, with cursor pagination (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"clients": [...], "next_cursor": str | null}')
async def list_clients(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    clients, next_cursor = await clients_page(query_of(request, {"limit", "cursor"}))
    return ok({"clients": [client_view(c) for c in clients], "next_cursor": next_cursor})


@bp.get("/<client_id:str>")
@api_doc.tag("admin")
@api_doc.summary("One client (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"client": {...}}')
@api_doc.response(404, description="not_found")
async def get_client(request: Request, client_id: str) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok({"client": client_view(await client_for_admin(path_client_id(client_id)))})


@bp.patch("/<client_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Update a client; validated with the registration rules (admin)")
@api_doc.description("An empty `scopes` list means the default scopes, as at registration.")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ClientPatch.model_json_schema()})
@api_doc.response(200, description='{"client": {...}}')
@api_doc.response(400, description="invalid_request, invalid_client_metadata")
@api_doc.response(409, description="built_in_client (the first-party app)")
async def update(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, ClientPatch)
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    if not changes:
        raise ApiError(400, "invalid_request", "Send at least one field to change.")
    client = await client_to_change(path_client_id(client_id))
    try:
        await update_client(services_of(request), caller_of(request), auth.user, client, changes)
    except ClientSpecError as exc:
        raise _invalid_metadata(exc) from exc
    return ok({"client": client_view(client)})


@bp.post("/<client_id:str>/rotate-secret")
@api_doc.tag("admin")
@api_doc.summary("Issue a new secret; the old one works for a grace period (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": Rotation.model_json_schema()})
@api_doc.response(200, description='{"client_id", "client_secret", "grace_seconds"}')
@api_doc.response(409, description="built_in_client (the first-party app)")
async def rotate(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = optional_body(request, Rotation)
    services = services_of(request)
    grace = (
        body.grace_seconds
        if body.grace_seconds is not None
        else services.settings.client_secret_grace_period
    )
    client = await client_to_change(path_client_id(client_id))
    try:
        secret = await rotate_client_secret(services, caller_of(request), auth.user, client, grace)
    except ClientSpecError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from exc
    return ok(
        {
            "client_id": client.id,
            "client_secret": secret,
            "grace_seconds": grace,
            "previous_secret_expires_at": client.previous_secret_expires_at.isoformat()
            if client.previous_secret_expires_at
            else None,
        }
    )


@bp.post("/<client_id:str>/disable")
@api_doc.tag("admin")
@api_doc.summary("Disable a client: no authorization, no token, no refresh (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"client": {...}}')
@api_doc.response(409, description="built_in_client (the first-party app)")
async def disable(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    client = await client_to_change(path_client_id(client_id))
    await disable_client(services_of(request), caller_of(request), auth.user, client)
    return ok({"client": client_view(client)})


@bp.delete("/<client_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Delete a client and revoke every refresh token it holds (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"deleted": true, "refresh_tokens_revoked": n}')
@api_doc.response(409, description="built_in_client (the first-party app)")
async def delete(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    client = await client_to_change(path_client_id(client_id))
    revoked = await delete_client(services_of(request), caller_of(request), auth.user, client)
    return ok({"deleted": True, "refresh_tokens_revoked": revoked})
