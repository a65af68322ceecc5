"""The admin pages of resource servers (APIs): /admin/resources and /admin/resources/<id>.

Admins register one (identifier, name, scopes, token lifetime, algorithm, allowed clients),
change it or remove it; auditors see the same pages without the forms. Every change goes
through provider.oauth.resource_admin, as the admin API and the CLI do.
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.domain_errors import ResourceIdentifierTaken, ValidationFailed
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.params import form_params
from provider.i18n.catalogues import N_, Message
from provider.oauth.resource_admin import (
    SIGNING_ALGS,
    ResourceSpec,
    add_resource,
    describe,
    list_resources,
    remove_resource,
    resource_for_admin,
    update_resource,
)
from provider.storage.models import User

# The admin pages' guard and layout, shared with provider.web.admin's pages.
from provider.web.admin import guarded, render_admin
from provider.web.field_problems import field_problems

bp = Blueprint("web_admin_resources")

# The roles of provider.api.admin.roles: admins change resource servers, auditors read them.
ADMIN = ("admin",)
READERS = ("admin", "auditor")

NOTICES = {
    "added": N_("Resource server registered."),
    "updated": N_("Resource server saved."),
    "removed": N_("Resource server removed."),
}


async def _problems(
    request: Request, exc: ValidationFailed | ResourceIdentifierTaken
) -> list[str | Message]:
    if isinstance(exc, ResourceIdentifierTaken):
        return [exc.message]
    return [*await field_problems(request, exc.problems)]


def _fields(form: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the use cases take them. Words of scopes and clients are separated
    by spaces; no allowed client means any client; an empty lifetime means the default."""
    ttl = form.get("access_token_ttl", "").strip()
    clients = form.get("allowed_clients", "").split()
    return {
        "name": form.get("name", ""),
        "scopes": form.get("scopes", "").split(),
        "access_token_ttl": int(ttl) if ttl.isdigit() else (None if not ttl else -1),
        "signing_alg": form.get("signing_alg", "RS256"),
        "allowed_clients": clients or None,
    }


async def _list_page(
    request: Request, viewer: User, *, errors: list[str | Message] | None = None, status: int = 200
) -> HTTPResponse:
    return await render_admin(
        request,
        "admin/resources.html",
        viewer,
        {
            "resources": [describe(r) for r in await list_resources()],
            "algs": SIGNING_ALGS,
            # The algorithms a key signs with now: a resource needing another is flagged.
            "active_algs": services_of(request).keystore.algorithms,
            "errors": errors or [],
            "notice": NOTICES.get(request.args.get("done") or ""),
        },
        status=status,
    )


@bp.get("/admin/resources")
async def resources(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _list_page(request, viewer)

    return await guarded(request, READERS, build)


@bp.post("/admin/resources")
async def add(request: Request) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        spec = ResourceSpec(identifier=form.get("identifier", ""), **_fields(form))
        try:
            await add_resource(
                services.settings,
                services.events,
                caller_of(request),
                spec,
                actor_id=str(viewer.id),
            )
        except (ValidationFailed, ResourceIdentifierTaken) as exc:
            return await _list_page(
                request, viewer, errors=await _problems(request, exc), status=422
            )
        return redirect("/admin/resources?done=added", status=303)

    return await guarded(request, ADMIN, build)


async def _detail_page(
    request: Request,
    viewer: User,
    resource_id: str,
    *,
    errors: list[str | Message] | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await render_admin(
        request,
        "admin/resource.html",
        viewer,
        {
            "resource": describe(await resource_for_admin(resource_id)),
            "algs": SIGNING_ALGS,
            # The algorithms a key signs with now: a resource needing another is flagged.
            "active_algs": services_of(request).keystore.algorithms,
            "errors": errors or [],
            "notice": NOTICES.get(request.args.get("done") or ""),
        },
        status=status,
    )


@bp.get("/admin/resources/<resource_id:str>")
async def detail(request: Request, resource_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _detail_page(request, viewer, resource_id)

    return await guarded(request, READERS, build)


@bp.post("/admin/resources/<resource_id:str>")
async def update(request: Request, resource_id: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        resource = await resource_for_admin(resource_id)
        try:
            await update_resource(
                services.settings,
                services.events,
                caller_of(request),
                resource,
                _fields(form),
                actor_id=str(viewer.id),
            )
        except ValidationFailed as exc:
            return await _detail_page(
                request, viewer, resource_id, errors=await _problems(request, exc), status=422
            )
        return redirect(f"/admin/resources/{resource_id}?done=updated", status=303)

    return await guarded(request, ADMIN, build)


@bp.post("/admin/resources/<resource_id:str>/delete")
async def remove(request: Request, resource_id: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        verify_csrf(request, services.settings, form_params(request).get("csrf"))
        resource = await resource_for_admin(resource_id)
        await remove_resource(
            services.events, caller_of(request), resource, actor_id=str(viewer.id)
        )
        return redirect("/admin/resources?done=removed", status=303)

    return await guarded(request, ADMIN, build)
