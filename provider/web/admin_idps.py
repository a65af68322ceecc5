"""The admin pages of upstream identity providers: /admin/idps and /admin/idps/<slug>.

Admins add one from a preset (then its client id and secret), change any field, or remove it;
auditors see the same pages without the forms. Every change goes through
provider.federation.providers, as the admin API and the CLI do. The client secret is never
shown: a new one replaces it, an empty field keeps it.
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.domain_errors import ValidationFailed
from provider.federation.presets import PRESETS
from provider.federation.providers import (
    URL_FIELDS,
    add_provider,
    get_provider,
    list_providers,
    redirect_uri,
    remove_provider,
    spec_from_preset,
    update_provider,
)
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.params import form_params
from provider.i18n.catalogues import N_, Message
from provider.storage.models import User

# The admin pages' guard and layout, shared with provider.web.admin's pages.
from provider.web.admin import guarded, render_admin
from provider.web.field_problems import field_problems

bp = Blueprint("web_admin_idps")

# The roles of provider.api.admin.roles: admins change providers, auditors read them.
ADMIN = ("admin",)
READERS = ("admin", "auditor")

FLAGS = ("enabled", "allow_signup", "trust_email")
NOTICES = {
    "added": N_("Provider added."),
    "updated": N_("Provider saved."),
    "removed": N_("Provider removed, with every link to it."),
}


async def _problems(request: Request, exc: ValidationFailed) -> list[str | Message]:
    return [*await field_problems(request, exc.problems)]


async def _list_page(
    request: Request, viewer: User, *, errors: list[str | Message] | None = None, status: int = 200
) -> HTTPResponse:
    return await render_admin(
        request,
        "admin/idps.html",
        viewer,
        {
            "idps": await list_providers(),
            "presets": sorted(PRESETS),
            "errors": errors or [],
            "notice": NOTICES.get(request.args.get("done") or ""),
        },
        status=status,
    )


@bp.get("/admin/idps")
async def idps(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _list_page(request, viewer)

    return await guarded(request, READERS, build)


@bp.post("/admin/idps")
async def add(request: Request) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        try:
            spec = spec_from_preset(
                form.get("preset", ""),
                slug=form.get("slug") or None,
                client_id=form.get("client_id", ""),
                client_secret=form.get("client_secret") or None,
                **{flag: flag in form for flag in FLAGS},
            )
            await add_provider(
                services.settings,
                services.events,
                caller_of(request),
                spec,
                actor_id=str(viewer.id),
            )
        except ValidationFailed as exc:
            return await _list_page(
                request, viewer, errors=await _problems(request, exc), status=422
            )
        return redirect("/admin/idps?done=added", status=303)

    return await guarded(request, ADMIN, build)


async def _detail_page(
    request: Request,
    viewer: User,
    slug: str,
    *,
    errors: list[str | Message] | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await render_admin(
        request,
        "admin/idp.html",
        viewer,
        {
            "idp": await get_provider(slug),
            "redirect_uri": redirect_uri(services_of(request).settings.issuer, slug),
            "url_fields": URL_FIELDS,
            "errors": errors or [],
            "notice": NOTICES.get(request.args.get("done") or ""),
        },
        status=status,
    )


@bp.get("/admin/idps/<slug:str>")
async def detail(request: Request, slug: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _detail_page(request, viewer, slug)

    return await guarded(request, READERS, build)


def _changes(form: dict[str, str]) -> dict[str, Any]:
    """The form's fields as changes: every text field, the flags as checked or not, and the
    secret only when a new one is typed."""
    changes: dict[str, Any] = {name: form.get(name, "") for name in ("name", "client_id")}
    changes.update({name: form.get(name, "") for name in URL_FIELDS})
    changes["scopes"] = form.get("scopes", "").split()
    changes.update({flag: flag in form for flag in FLAGS})
    if form.get("client_secret"):
        changes["client_secret"] = form["client_secret"]
    return changes


@bp.post("/admin/idps/<slug:str>")
async def update(request: Request, slug: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        try:
            await update_provider(
                services.settings,
                services.events,
                caller_of(request),
                slug,
                _changes(form),
                actor_id=str(viewer.id),
            )
        except ValidationFailed as exc:
            return await _detail_page(
                request, viewer, slug, errors=await _problems(request, exc), status=422
            )
        return redirect(f"/admin/idps/{slug}?done=updated", status=303)

    return await guarded(request, ADMIN, build)


@bp.post("/admin/idps/<slug:str>/delete")
async def remove(request: Request, slug: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        verify_csrf(request, services.settings, form_params(request).get("csrf"))
        await remove_provider(services.events, caller_of(request), slug, actor_id=str(viewer.id))
        return redirect("/admin/idps?done=removed", status=303)

    return await guarded(request, ADMIN, build)
