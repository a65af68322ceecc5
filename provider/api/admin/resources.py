"""/v1/admin/resources: the resource servers (APIs) clients ask tokens for (admin; auditors read).

Each call goes through provider.oauth.resource_admin, as the CLI and the admin pages do: the
same rules (an absolute URI without a fragment, never the provider's own audience), an audit row
per change. The identifier is fixed once registered: issued tokens carry it as `aud`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.oauth.resource_admin import (
    ResourceSpec,
    add_resource,
    describe,
    list_resources,
    remove_resource,
    resource_for_admin,
    update_resource,
)

bp = Blueprint("api_admin_resources", url_prefix="/v1/admin/resources")

Scope = Annotated[str, Field(min_length=1, max_length=64)]
ClientId = Annotated[str, Field(min_length=1, max_length=128)]
Alg = Literal["RS256", "ES256"]


class ResourceCreate(StrictBody):
    identifier: str = Field(max_length=512, description="absolute URI, no fragment: the `aud`")
    name: str = Field(max_length=200)
    scopes: list[Scope] = Field(default_factory=list, max_length=64)
    access_token_ttl: int | None = Field(None, description="seconds; default: the client's")
    signing_alg: Alg = "RS256"
    allowed_clients: list[ClientId] | None = Field(
        None, max_length=256, description="null: any client"
    )


class ResourcePatch(StrictBody):
    name: str | None = Field(None, max_length=200)
    scopes: list[Scope] | None = Field(None, max_length=64)
    access_token_ttl: int | None = None
    signing_alg: Alg | None = None
    allowed_clients: list[ClientId] | None = Field(
        None, max_length=256, description="null: any client"
    )


@bp.post("")
@api_doc.tag("admin")
@api_doc.summary("Register a resource server (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ResourceCreate.model_json_schema()})
@api_doc.response(201, description='{"resource": {...}}')
@api_doc.response(409, description="resource_exists")
@api_doc.response(422, description="validation_failed, with the reasons per field")
async def create(request: Request) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, ResourceCreate)
    services = services_of(request)
    resource = await add_resource(
        services.settings,
        services.events,
        caller_of(request),
        ResourceSpec(**body.model_dump()),
        actor_id=str(auth.user.id),
    )
    return ok({"resource": describe(resource)}, status=201)


@bp.get("")
@api_doc.tag("admin")
@api_doc.summary("Resource servers, by identifier (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"resources": [...]}')
async def list_all(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok({"resources": [describe(resource) for resource in await list_resources()]})


@bp.get("/<resource_id:str>")
@api_doc.tag("admin")
@api_doc.summary("One resource server (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"resource": {...}}')
@api_doc.response(404, description="not_found")
async def get_one(request: Request, resource_id: str) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok({"resource": describe(await resource_for_admin(resource_id))})


@bp.patch("/<resource_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Change a resource server; the identifier is fixed (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": ResourcePatch.model_json_schema()})
@api_doc.response(200, description='{"resource": {...}}')
@api_doc.response(422, description="validation_failed, with the reasons per field")
async def update(request: Request, resource_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, ResourcePatch)
    # Only the fields sent: `allowed_clients: null` opens the resource to any client.
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ApiError(400, "invalid_request", "Send at least one field to change.")
    services = services_of(request)
    resource = await update_resource(
        services.settings,
        services.events,
        caller_of(request),
        await resource_for_admin(resource_id),
        changes,
        actor_id=str(auth.user.id),
    )
    return ok({"resource": describe(resource)})


@bp.delete("/<resource_id:str>")
@api_doc.tag("admin")
@api_doc.summary("Remove a resource server; no new token is issued for it (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"deleted": true}')
@api_doc.response(404, description="not_found")
async def delete(request: Request, resource_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    resource = await resource_for_admin(resource_id)
    await remove_resource(
        services_of(request).events, caller_of(request), resource, actor_id=str(auth.user.id)
    )
    return ok({"deleted": True})
