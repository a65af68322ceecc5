"""/admin/app-roles and /admin/users/{id}/app-access: the apps' roles and groups on the hosted
admin pages, through the same use cases as the admin API (`provider.accounts.app_roles`).

Admins and auditors see them; only admins change them (the guard of provider.web.admin).
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts import app_roles
from provider.accounts.roles import ADMIN, READERS
from provider.domain_errors import ValidationFailed
from provider.http.admin_params import path_uuid
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.errors import ApiError, http_status
from provider.http.params import form_params
from provider.i18n.catalogues import N_
from provider.storage.models import User
from provider.web.admin import guarded, render_admin

bp = Blueprint("web_admin_roles")

NOTICES = {
    "role-added": N_("Role added."),
    "role-deleted": N_("Role deleted."),
    "group-added": N_("Group added."),
    "group-deleted": N_("Group deleted."),
    "group-roles": N_("The group's roles are saved."),
    "access": N_("The user's roles and groups are saved."),
}


def _names(value: str) -> list[str]:
    return [name for name in value.replace(",", " ").split() if name]


async def _roles_page(
    request: Request,
    viewer: User,
    *,
    problems: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await render_admin(
        request,
        "admin/app_roles.html",
        viewer,
        {
            "roles": await app_roles.list_roles(),
            "groups": await app_roles.list_groups(),
            "notice": NOTICES.get(request.args.get("done") or ""),
            "problems": problems or {},
        },
        status=status,
    )


@bp.get("/admin/app-roles")
async def roles(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _roles_page(request, viewer)

    return await guarded(request, READERS, build)


@bp.post("/admin/app-roles/<action:str>")
async def roles_action(request: Request, action: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        events, caller = services.events, caller_of(request)
        name = (form.get("name") or "")[:128]
        description = (form.get("description") or "")[:512]
        try:
            if action == "role-added":
                await app_roles.create_role(events, caller, viewer, name, description)
            elif action == "role-deleted":
                await app_roles.delete_role(events, caller, viewer, name)
            elif action == "group-added":
                await app_roles.create_group(events, caller, viewer, name, description)
            elif action == "group-deleted":
                await app_roles.delete_group(events, caller, viewer, name)
            elif action == "group-roles":
                roles = _names(form.get("roles") or "")
                await app_roles.set_group_roles(events, caller, viewer, name, roles)
            else:
                raise ApiError(404, "not_found", N_("No such action."))
        except ValidationFailed as exc:
            return await _roles_page(
                request, viewer, problems=exc.problems, status=http_status(exc)
            )
        return redirect(f"/admin/app-roles?done={action}", status=303)

    return await guarded(request, ADMIN, build)


@bp.get("/admin/users/<user_id:str>/app-access")
async def user_access(request: Request, user_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        target = path_uuid(user_id)
        access = await app_roles.access_of(target)
        return await render_admin(
            request,
            "admin/app_access.html",
            viewer,
            {
                "user_id": str(target),
                "access": access,
                "notice": NOTICES.get(request.args.get("done") or ""),
            },
        )

    return await guarded(request, READERS, build)


@bp.post("/admin/users/<user_id:str>/app-access")
async def set_user_access(request: Request, user_id: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        target = path_uuid(user_id)
        await app_roles.set_user_access(
            services.events,
            caller_of(request),
            viewer,
            target,
            roles=_names(form.get("roles") or ""),
            groups=_names(form.get("groups") or ""),
        )
        return redirect(f"/admin/users/{target}/app-access?done=access", status=303)

    return await guarded(request, ADMIN, build)
