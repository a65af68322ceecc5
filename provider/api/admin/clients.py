"""/v1/admin/clients: register, list, read, update, rotate the secret, disable, delete (admin).

Registration and updates go through provider.oauth.clients.validate_spec, the rules the CLI uses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.http.admin_listings import clients_page
from provider.http.admin_params import optional_body, query_of
from provider.http.admin_views import client_view
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError
from provider.http.json_body import StrictBody, parse_body
from provider.http.responses import ok
from provider.oauth.clients import (
    ClientSpec,
    ClientSpecError,
    create_client,
    find_client,
    rotate_secret,
    validate_spec,
)
from provider.oauth.first_party import refuse_changes_to_built_in
from provider.oauth.issuance import deny_client_tokens
from provider.oauth.scopes import DEFAULT_CLIENT_SCOPES
from provider.storage.clients import Clients
from provider.storage.codes import CodeStore
from provider.storage.consents import Consents
from provider.storage.models import Client
from provider.storage.refresh_families import RefreshFamilies
from provider.storage.unit_of_work import unit_of_work, utcnow

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


class Rotation(StrictBody):
    grace_seconds: int | None = Field(
        None, ge=0, le=MAX_GRACE_SECONDS, description="default: PROVIDER_CLIENT_SECRET_GRACE_PERIOD"
    )


class NoFields(StrictBody):
    """No parameters: no body, or `{}`."""


def _invalid_metadata(exc: ClientSpecError) -> ApiError:
    return ApiError(400, "invalid_client_metadata", str(exc))


async def _client(client_id: str) -> Client:
    """The client named in the path, disabled or not; 404 if there is none."""
    client = await find_client(client_id, include_disabled=True)
    if client is None:
        raise ApiError(404, "not_found", "No such client.")
    return client


def _admin(user_id: object) -> dict[str, str]:
    return {"admin_id": str(user_id)}


@bp.post("")
@openapi.tag("admin")
@openapi.summary("Register a client; the secret is in the response, once (admin)")
@openapi.secured("bearer")
@openapi.body({"application/json": ClientCreate.model_json_schema()})
@openapi.response(201, description='{"client": {...}, "client_secret": str | null}')
@openapi.response(400, description="invalid_request, invalid_client_metadata")
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
    )
    services = services_of(request)
    try:
        validate_spec(
            spec, services.settings.issuer, allow_private=services.settings.outbound_allow_private
        )
    except ClientSpecError as exc:
        raise _invalid_metadata(exc) from exc
    async with unit_of_work(caller_of(request), services.events) as work:
        # Inside the transaction: Tortoise routes this task's queries to its connection.
        client, secret = await create_client(
            spec,
            services.settings.secret,
            services.settings.issuer,
            allow_private=services.settings.outbound_allow_private,
        )
        await work.audit(
            "admin.client_created",
            client_id=client.id,
            details={**_admin(auth.user.id), "name": client.name},
        )
    return ok({"client": client_view(client), "client_secret": secret}, status=201)


@bp.get("")
@openapi.tag("admin")
@openapi.summary("Registered clients, oldest first, with cursor pagination (admin, auditor)")
@openapi.secured("bearer")
@openapi.response(200, description='{"clients": [...], "next_cursor": str | null}')
async def list_clients(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    clients, next_cursor = await clients_page(query_of(request, {"limit", "cursor"}))
    return ok({"clients": [client_view(c) for c in clients], "next_cursor": next_cursor})


@bp.get("/<client_id:str>")
@openapi.tag("admin")
@openapi.summary("One client (admin, auditor)")
@openapi.secured("bearer")
@openapi.response(200, description='{"client": {...}}')
@openapi.response(404, description="not_found")
async def get_client(request: Request, client_id: str) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok({"client": client_view(await _client(client_id))})


def _merged_spec(client: Client, body: ClientPatch) -> ClientSpec:
    """The registration as it would be after the patch, for validate_spec."""
    return ClientSpec(
        name=body.name if body.name is not None else client.name,
        redirect_uris=list(body.redirect_uris)
        if body.redirect_uris is not None
        else client.redirect_uris,
        post_logout_redirect_uris=list(body.post_logout_redirect_uris)
        if body.post_logout_redirect_uris is not None
        else client.post_logout_redirect_uris,
        grant_types=list(body.grant_types) if body.grant_types is not None else client.grant_types,
        scopes=list(body.scopes) if body.scopes is not None else client.scopes,
        public=client.public,
        first_party=body.first_party if body.first_party is not None else client.first_party,
        introspect_any=client.introspect_any
        if body.introspect_any is None
        else body.introspect_any,
        auth_method=client.token_endpoint_auth_method,
        id_token_alg=client.id_token_signed_response_alg,
        audience=body.audience if body.audience is not None else client.audience,
        jwks=client.jwks,
        jwks_uri=client.jwks_uri,
    )


@bp.patch("/<client_id:str>")
@openapi.tag("admin")
@openapi.summary("Update a client; validated with the registration rules (admin)")
@openapi.description("An empty `scopes` list means the default scopes, as at registration.")
@openapi.secured("bearer")
@openapi.body({"application/json": ClientPatch.model_json_schema()})
@openapi.response(200, description='{"client": {...}}')
@openapi.response(400, description="invalid_request, invalid_client_metadata")
@openapi.response(409, description="built_in_client (the first-party app)")
async def update(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, ClientPatch)
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    if not changes:
        raise ApiError(400, "invalid_request", "Send at least one field to change.")
    refuse_changes_to_built_in(client_id)
    client = await _client(client_id)
    spec = _merged_spec(client, body)
    try:
        settings = services_of(request).settings
        validate_spec(spec, settings.issuer, allow_private=settings.outbound_allow_private)
    except ClientSpecError as exc:
        raise _invalid_metadata(exc) from exc
    if "name" in changes:
        changes["name"] = spec.name.strip()
    if "scopes" in changes and not changes["scopes"]:
        changes["scopes"] = list(DEFAULT_CLIENT_SCOPES)
    async with unit_of_work(caller_of(request), services_of(request).events) as work:
        client.update_from_dict(changes)
        await Clients(work.conn).save(client)
        await work.audit(
            "admin.client_updated",
            client_id=client.id,
            details={**_admin(auth.user.id), "fields": sorted(changes)},
        )
    if changes.get("disabled"):
        await deny_client_tokens(services_of(request), client)
    return ok({"client": client_view(client)})


@bp.post("/<client_id:str>/rotate-secret")
@openapi.tag("admin")
@openapi.summary("Issue a new secret; the old one works for a grace period (admin)")
@openapi.secured("bearer")
@openapi.body({"application/json": Rotation.model_json_schema()})
@openapi.response(200, description='{"client_id", "client_secret", "grace_seconds"}')
@openapi.response(409, description="built_in_client (the first-party app)")
async def rotate(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = optional_body(request, Rotation)
    services = services_of(request)
    grace = (
        body.grace_seconds
        if body.grace_seconds is not None
        else services.settings.client_secret_grace_period
    )
    refuse_changes_to_built_in(client_id)
    client = await _client(client_id)
    async with unit_of_work(caller_of(request), services.events) as work:
        try:
            # Inside the transaction: Tortoise routes this task's queries to its connection.
            secret = await rotate_secret(client, services.settings.secret, grace)
        except ClientSpecError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from exc
        await work.audit(
            "admin.client_secret_rotated",
            client_id=client.id,
            details={**_admin(auth.user.id), "grace_seconds": grace},
        )
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
@openapi.tag("admin")
@openapi.summary("Disable a client: no authorization, no token, no refresh (admin)")
@openapi.secured("bearer")
@openapi.response(200, description='{"client": {...}}')
@openapi.response(409, description="built_in_client (the first-party app)")
async def disable(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    refuse_changes_to_built_in(client_id)
    client = await _client(client_id)
    if not client.disabled:
        async with unit_of_work(caller_of(request), services_of(request).events) as work:
            client.disabled = True
            await Clients(work.conn).save(client, fields=["disabled"])
            await work.audit(
                "admin.client_disabled", client_id=client.id, details=_admin(auth.user.id)
            )
        await deny_client_tokens(services_of(request), client)
    return ok({"client": client_view(client)})


@bp.delete("/<client_id:str>")
@openapi.tag("admin")
@openapi.summary("Delete a client and revoke every refresh token it holds (admin)")
@openapi.secured("bearer")
@openapi.response(200, description='{"deleted": true, "refresh_tokens_revoked": n}')
@openapi.response(409, description="built_in_client (the first-party app)")
async def delete(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    optional_body(request, NoFields)
    refuse_changes_to_built_in(client_id)
    client = await _client(client_id)
    async with unit_of_work(caller_of(request), services_of(request).events) as work:
        now = utcnow()
        revoked = await RefreshFamilies(work).revoke_client(
            client.id, reason="client_deleted", now=now
        )
        await Consents(work.conn).forget_client(client.id)
        await CodeStore(work.conn).void_client(client.id, now)
        await Clients(work.conn).remove(client.id)
        await work.audit(
            "admin.client_deleted",
            client_id=client.id,
            details={
                **_admin(auth.user.id),
                "name": client.name,
                "refresh_tokens_revoked": revoked,
            },
        )
    await deny_client_tokens(services_of(request), client)
    return ok({"deleted": True, "refresh_tokens_revoked": revoked})
