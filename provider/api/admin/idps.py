"""/v1/admin/idps: the upstream identity providers users may sign in with (admin; auditors read).

Each call goes through provider.federation.providers, as the CLI and the admin pages do: the
same validation, the client secret sealed and never returned (`has_client_secret` says whether
one is set), an audit row per change. `preset` (google, microsoft, gitlab, github) fills in
everything but the client id and secret.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.federation.providers import (
    ProviderSpec,
    add_provider,
    get_provider,
    list_providers,
    remove_provider,
    spec_from_preset,
    update_provider,
)
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok

bp = Blueprint("api_admin_idps", url_prefix="/v1/admin/idps")

Url = Annotated[str, Field(max_length=2048)]
Scope = Annotated[str, Field(min_length=1, max_length=64)]
Preset = Literal["github", "gitlab", "google", "microsoft"]


class IdpCreate(StrictBody):
    slug: str | None = Field(None, max_length=32, description="default: the preset's name")
    preset: Preset | None = Field(None, description="google, microsoft, gitlab or github")
    name: str | None = Field(None, max_length=100)
    kind: Literal["oidc", "oauth2"] | None = None
    client_id: str = Field("", max_length=256, description="empty: kept but not offered")
    client_secret: str | None = Field(None, max_length=512, description="sealed at rest")
    scopes: list[Scope] | None = Field(None, max_length=32)
    issuer: Url | None = Field(None, description="oidc: discovery at issuer + /.well-known/…")
    authorize_url: Url | None = None
    token_url: Url | None = None
    userinfo_url: Url | None = None
    emails_url: Url | None = Field(None, description="oauth2: GitHub's /user/emails")
    claims: dict[str, str] | None = Field(
        None, description="oauth2: userinfo field of sub, email, email_verified, name"
    )
    enabled: bool = True
    allow_signup: bool = Field(False, description="create accounts for unknown users")
    trust_email: bool = Field(False, description="link by the upstream's verified email")


class IdpPatch(StrictBody):
    name: str | None = Field(None, max_length=100)
    client_id: str | None = Field(None, max_length=256)
    client_secret: str | None = Field(None, max_length=512)
    scopes: list[Scope] | None = Field(None, max_length=32)
    issuer: Url | None = None
    authorize_url: Url | None = None
    token_url: Url | None = None
    userinfo_url: Url | None = None
    emails_url: Url | None = None
    claims: dict[str, str] | None = None
    enabled: bool | None = None
    allow_signup: bool | None = None
    trust_email: bool | None = None


def _spec(body: IdpCreate) -> ProviderSpec:
    values: dict[str, Any] = body.model_dump(exclude={"preset"}, exclude_none=True)
    if body.preset is not None:
        return spec_from_preset(body.preset, **values)
    values.setdefault("slug", "")
    values.setdefault("name", "")
    values.setdefault("kind", "")
    return ProviderSpec(**values)


def _actor(user_id: object) -> str:
    return str(user_id)


@bp.post("")
@api_doc.tag("admin")
@api_doc.summary("Add an upstream identity provider, from a preset or in full (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": IdpCreate.model_json_schema()})
@api_doc.response(201, description='{"idp": {...}}; the client secret is never returned')
@api_doc.response(409, description="idp_exists")
@api_doc.response(422, description="validation_failed, with the reasons per field")
async def create(request: Request) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, IdpCreate)
    services = services_of(request)
    view = await add_provider(
        services.settings,
        services.events,
        caller_of(request),
        _spec(body),
        actor_id=_actor(auth.user.id),
    )
    return ok({"idp": view.to_dict()}, status=201)


@bp.get("")
@api_doc.tag("admin")
@api_doc.summary("Upstream identity providers, by name (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"idps": [...]}')
async def list_idps(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok({"idps": [view.to_dict() for view in await list_providers()]})


@bp.get("/<slug:str>")
@api_doc.tag("admin")
@api_doc.summary("One upstream identity provider (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"idp": {...}}')
@api_doc.response(404, description="not_found")
async def get_idp(request: Request, slug: str) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok({"idp": (await get_provider(slug)).to_dict()})


@bp.patch("/<slug:str>")
@api_doc.tag("admin")
@api_doc.summary("Change an upstream identity provider; omitted fields are kept (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": IdpPatch.model_json_schema()})
@api_doc.response(200, description='{"idp": {...}}')
@api_doc.response(404, description="not_found")
@api_doc.response(422, description="validation_failed")
async def update(request: Request, slug: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, IdpPatch)
    services = services_of(request)
    view = await update_provider(
        services.settings,
        services.events,
        caller_of(request),
        slug,
        body.model_dump(exclude_none=True),
        actor_id=_actor(auth.user.id),
    )
    return ok({"idp": view.to_dict()})


@bp.delete("/<slug:str>")
@api_doc.tag("admin")
@api_doc.summary("Remove an upstream identity provider and every link to it (admin)")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"deleted": true}')
@api_doc.response(404, description="not_found")
async def delete(request: Request, slug: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    await remove_provider(
        services_of(request).events, caller_of(request), slug, actor_id=_actor(auth.user.id)
    )
    return ok({"deleted": True})
