"""The hosted admin pages: /admin (users), /admin/users/{id}, /admin/clients, /admin/audit; the
rest of the console (dashboard, client forms, invitations, keys) is provider.web.admin_console,
on the guard and rendering below.

Server-rendered, no JavaScript, CSRF on every form that changes something. A browser session
(the hosted login's cookie, `/login?next=/admin`) of an admin or an auditor is required; auditors
see the same pages without action buttons and their POSTs are refused with 403. Every action calls
provider.accounts.administration, as the JSON admin API does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts import administration
from provider.accounts.passkeys import admin_remove_passkey, passkeys_of
from provider.accounts.refusals import audit_refusal
from provider.accounts.roles import ADMIN, READERS
from provider.context import Caller, Services
from provider.domain_errors import DomainError
from provider.http.admin_listings import (
    AUDIT_FILTERS,
    USER_LIST_PARAMS,
    audit_page,
    clients_page,
    users_page,
)
from provider.http.admin_names import names_in
from provider.http.admin_params import path_uuid, query_of
from provider.http.admin_views import client_view, event_view
from provider.http.audit_export import export_csv
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import browser_session
from provider.http.csrf import verify_csrf
from provider.http.errors import ApiError, OAuthError, http_status
from provider.http.params import form_params
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.storage.models import User
from provider.storage.unit_of_work import utcnow

bp = Blueprint("web_admin")

FORBIDDEN = N_("Your account does not have access to this page.")
PAGE_SIZE = 50
AUDIT_PARAMS = AUDIT_FILTERS | {"cursor"}

Action = Callable[[Services, Caller, User, User], Awaitable[object]]


async def _lock(services: Services, caller: Caller, admin: User, target: User) -> None:
    changes = administration.AccountChanges(locked=True)
    await administration.change_account(services, caller, admin, target, changes)


async def _unlock(services: Services, caller: Caller, admin: User, target: User) -> None:
    changes = administration.AccountChanges(locked=False)
    await administration.change_account(services, caller, admin, target, changes)


async def _verify(services: Services, caller: Caller, admin: User, target: User) -> None:
    changes = administration.AccountChanges(email_verified=True)
    await administration.change_account(services, caller, admin, target, changes)


ACTIONS: dict[str, tuple[Action, str]] = {
    "lock": (_lock, N_("Account locked; its sessions ended.")),
    "unlock": (_unlock, N_("Account unlocked.")),
    "revoke-sessions": (administration.end_sessions, N_("Every session ended.")),
    "delete": (administration.delete_account, N_("Account deleted; its sessions ended.")),
    "restore": (administration.restore_account, N_("Account restored.")),
    "verify": (_verify, N_("Email address marked as verified.")),
    "force-password-reset": (
        administration.require_password_reset,
        N_("Sessions ended; the user must reset their password."),
    ),
    "reset-mfa": (
        administration.reset_second_factor,
        N_("Two-factor authentication removed; sessions ended and the user was mailed."),
    ),
}


class Refused(Exception):
    """Stop the handler with this response (sign in first, or not allowed)."""

    def __init__(self, response: HTTPResponse) -> None:
        super().__init__("refused")
        self.response = response


async def _viewer(request: Request, roles: tuple[str, ...]) -> User:
    """The signed-in user if their role is in `roles`; otherwise `Refused` with the answer."""
    services = services_of(request)
    session = await browser_session(request, services.settings)
    if session is None:
        reading = request.method in ("GET", "HEAD")
        target = request.path if reading else "/admin"
        if reading and request.query_string:
            target += "?" + request.query_string
        raise Refused(redirect("/login?" + urlencode({"next": target}), status=303))
    user = session.user
    if user.role not in roles:
        await audit_refusal(
            services, caller_of(request), user, session, request.method, request.path
        )
        raise Refused(await error_page(request, FORBIDDEN, status=403, title=N_("Not allowed")))
    return user


async def render_admin(
    request: Request, template: str, viewer: User, context: dict[str, Any], status: int = 200
) -> HTTPResponse:
    return await page(
        request,
        template,
        {
            "wide": True,
            "viewer": viewer,
            "can_act": viewer.role in ADMIN,
            **context,
        },
        status=status,
    )


async def guarded(
    request: Request, roles: tuple[str, ...], build: Callable[[User], Awaitable[HTTPResponse]]
) -> HTTPResponse:
    """Run `build` for an allowed viewer; bad input becomes an error page, never a 500."""
    try:
        viewer = await _viewer(request, roles)
        return await build(viewer)
    except Refused as refused:
        return refused.response
    except DomainError as exc:
        return await error_page(request, exc.message, status=http_status(exc))
    except ApiError as exc:
        return await error_page(request, exc.message, status=exc.status)
    except OAuthError as exc:
        return await error_page(request, exc.description or exc.error, status=exc.status)


@bp.get("/admin")
async def users(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        params = query_of(request, USER_LIST_PARAMS)
        params.setdefault("limit", str(PAGE_SIZE))
        now = utcnow()
        found, next_cursor = await users_page(params, now)
        next_url = None
        if next_cursor:
            next_url = "/admin?" + urlencode({**params, "cursor": next_cursor})
        return await render_admin(
            request,
            "admin/users.html",
            viewer,
            {
                "users": [administration.admin_user_view(user, now) for user in found],
                "q": params.get("q", ""),
                "status": params.get("status", ""),
                "role": params.get("role", ""),
                "statuses": administration.STATUSES,
                "next_url": next_url,
            },
        )

    return await guarded(request, READERS, build)


@bp.get("/admin/users/<user_id:str>")
async def user_detail(request: Request, user_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        target = await administration.find_target(path_uuid(user_id))
        detail = await administration.user_detail(target, services_of(request).settings)
        detail["names"] = await names_in(detail["last_logins"])
        detail["passkeys"] = await passkeys_of(target.id)
        return await render_admin(
            request,
            "admin/user.html",
            viewer,
            {
                **detail,
                "notice": action_notice(request.args.get("done")),
                "is_self": target.id == viewer.id,
            },
        )

    return await guarded(request, READERS, build)


@bp.post("/admin/users/<user_id:str>/<action:str>")
async def user_action(request: Request, user_id: str, action: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        verify_csrf(request, services.settings, form_params(request).get("csrf"))
        if action not in ACTIONS:
            raise ApiError(404, "not_found", N_("No such action."))
        target = await administration.find_target(path_uuid(user_id))
        run, _ = ACTIONS[action]
        await run(services, caller_of(request), viewer, target)
        return redirect(f"/admin/users/{target.id}?done={action}", status=303)

    return await guarded(request, ADMIN, build)


@bp.post("/admin/users/<user_id:str>/passkeys/<passkey_id:str>/remove")
async def remove_user_passkey(request: Request, user_id: str, passkey_id: str) -> HTTPResponse:
    """Remove a user's passkey (a lost or suspected device); audited as passkey.removed."""
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        verify_csrf(request, services.settings, form_params(request).get("csrf"))
        target = await administration.find_target(path_uuid(user_id))
        await admin_remove_passkey(services, caller_of(request), viewer, str(target.id), passkey_id)
        return redirect(f"/admin/users/{target.id}?done=passkey-removed", status=303)

    return await guarded(request, ADMIN, build)


@bp.get("/admin/clients")
async def clients(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        params = query_of(request, {"cursor"})
        params["limit"] = str(PAGE_SIZE)
        found, next_cursor = await clients_page(params)
        return await render_admin(
            request,
            "admin/clients.html",
            viewer,
            {
                "clients": [client_view(client) for client in found],
                "next_url": "/admin/clients?" + urlencode({"cursor": next_cursor})
                if next_cursor
                else None,
            },
        )

    return await guarded(request, READERS, build)


@bp.get("/admin/audit")
async def audit(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        params = query_of(request, AUDIT_PARAMS)
        events, next_cursor = await audit_page(params, PAGE_SIZE)
        filters = {name: value for name, value in params.items() if name != "cursor"}
        views = [event_view(event) for event in events]
        return await render_admin(
            request,
            "admin/audit.html",
            viewer,
            {
                "events": views,
                "names": await names_in(views),
                "filters": filters,
                "csv_url": "/admin/audit.csv?" + urlencode(filters),
                "next_url": "/admin/audit?" + urlencode({**filters, "cursor": next_cursor})
                if next_cursor
                else None,
            },
        )

    return await guarded(request, READERS, build)


@bp.get("/admin/audit.csv")
async def audit_csv(request: Request) -> HTTPResponse | None:
    try:
        await _viewer(request, READERS)
        # Filters are checked before the first byte is sent, so a bad one is still a page.
        await export_csv(request, query_of(request, AUDIT_FILTERS))
    except Refused as refused:
        return refused.response
    except ApiError as exc:
        return await error_page(request, exc.message, status=exc.status)
    return None


# Done elsewhere in the console (provider.web.admin_console), shown on the user's page.
CONSOLE_NOTICES = {
    "invited": N_(
        "Account created. The invitation with a link to choose a password is on its way."
    ),
    "passkey-removed": N_("Passkey removed."),
}


def action_notice(action: str | None) -> str | None:
    if action in CONSOLE_NOTICES:
        return CONSOLE_NOTICES[action]
    return ACTIONS[action][1] if action in ACTIONS else None
