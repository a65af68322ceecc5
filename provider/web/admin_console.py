"""The admin console's pages beyond the listings of provider.web.admin: the dashboard, clients
(register, edit, rotate the secret, disable, enable, delete), invitations and signing keys.

Each page parses its form, calls one core use case (provider.oauth.client_admin,
provider.accounts.invitations, provider.accounts.stats, provider.oauth.key_admin) and renders
its result. Forms carry the CSRF token; auditors see the pages without their forms, and their
POSTs are refused with 403.
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.invitations import invite_user
from provider.accounts.roles import ADMIN, READERS
from provider.accounts.stats import COUNTED, daily_stats, live_sessions
from provider.domain_errors import EmailTaken, ValidationFailed
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.errors import ApiError
from provider.http.params import client_path, form_params, path_client_id
from provider.i18n.catalogues import N_, Message
from provider.oauth.client_admin import (
    client_to_change,
    delete_client,
    disable_client,
    register_client,
    rotate_client_secret,
    update_client,
)
from provider.oauth.clients import GRANT_TYPES, ClientSpec, ClientSpecError
from provider.oauth.key_admin import ALGORITHMS, rotate_signing_key, signing_keys
from provider.storage.models import ROLES, Client, User
from provider.web.admin import guarded, render_admin
from provider.web.admin_charts import bar_chart
from provider.web.admin_forms import client_changes, client_form_values, client_spec

bp = Blueprint("web_admin_console")

DASHBOARD_DAYS = 14
CLIENT_NOTICES = {
    "updated": N_("Client updated."),
    "disabled": N_("Client disabled: it can no longer sign users in or get tokens."),
    "enabled": N_("Client enabled again."),
}


def _refusal(exc: ClientSpecError) -> Message:
    """The refusal in the reader's language: its message id is translated, then filled in."""
    return Message(exc.text, exc.values)


def _checked_form(request: Request) -> dict[str, str]:
    """The posted form once its CSRF token matches."""
    values = form_params(request)
    verify_csrf(request, services_of(request).settings, values.get("csrf"))
    return values


@bp.get("/admin/dashboard")
async def dashboard(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        stats = await daily_stats(DASHBOARD_DAYS)
        charts = {metric: bar_chart(metric, stats["days"]) for metric in COUNTED}
        charts["active_users"] = bar_chart("active_users", stats["days"])
        sessions = await live_sessions(services_of(request).settings.session_idle_ttl)
        return await render_admin(
            request,
            "admin/dashboard.html",
            viewer,
            {"charts": charts, "live_sessions": sessions, "days": DASHBOARD_DAYS},
        )

    return await guarded(request, READERS, build)


async def _client_form_page(
    request: Request,
    viewer: User,
    values: dict[str, Any],
    *,
    problem: Message | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await render_admin(
        request,
        "admin/client_new.html",
        viewer,
        {"form": values, "grant_types": GRANT_TYPES, "problem": problem},
        status=status,
    )


@bp.get("/admin/clients/new")
async def new_client(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _client_form_page(request, viewer, client_form_values(None))

    return await guarded(request, ADMIN, build)


@bp.post("/admin/clients/new")
async def create_client(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        values = _checked_form(request)
        try:
            spec: ClientSpec = client_spec(values)
            client, secret = await register_client(
                services_of(request), caller_of(request), viewer, spec
            )
        except ClientSpecError as exc:
            return await _client_form_page(
                request, viewer, values, problem=_refusal(exc), status=400
            )
        return await _secret_page(request, viewer, client, secret, created=True)

    return await guarded(request, ADMIN, build)


async def _secret_page(
    request: Request, viewer: User, client: Client, secret: str | None, *, created: bool
) -> HTTPResponse:
    """The one time a secret is shown: never cached, never shown again."""
    return await render_admin(
        request,
        "admin/client_secret.html",
        viewer,
        {"client": client, "secret": secret, "created": created},
        status=201 if created else 200,
    )


@bp.get("/admin/clients/<client_id:str>")
async def client_detail(request: Request, client_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        client = await client_to_change(path_client_id(client_id))
        done = request.args.get("done")
        return await render_admin(
            request,
            "admin/client.html",
            viewer,
            {
                "client": client,
                "form": client_form_values(client),
                "grant_types": GRANT_TYPES,
                "notice": CLIENT_NOTICES.get(done or ""),
                "grace": services_of(request).settings.client_secret_grace_period,
            },
        )

    return await guarded(request, READERS, build)


@bp.post("/admin/clients/<client_id:str>")
async def edit_client(request: Request, client_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        values = _checked_form(request)
        client = await client_to_change(path_client_id(client_id))
        try:
            await update_client(
                services_of(request), caller_of(request), viewer, client, client_changes(values)
            )
        except ClientSpecError as exc:
            return await render_admin(
                request,
                "admin/client.html",
                viewer,
                {
                    "client": client,
                    "form": values,
                    "grant_types": GRANT_TYPES,
                    "problem": _refusal(exc),
                    "grace": services_of(request).settings.client_secret_grace_period,
                },
                status=400,
            )
        return redirect(f"/admin/clients/{client_path(client.id)}?done=updated", status=303)

    return await guarded(request, ADMIN, build)


@bp.post("/admin/clients/<client_id:str>/rotate-secret")
async def rotate_secret(request: Request, client_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        values = _checked_form(request)
        client = await client_to_change(path_client_id(client_id))
        grace = _grace_seconds(values, services_of(request).settings.client_secret_grace_period)
        try:
            secret = await rotate_client_secret(
                services_of(request), caller_of(request), viewer, client, grace
            )
        except ClientSpecError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from exc
        return await _secret_page(request, viewer, client, secret, created=False)

    return await guarded(request, ADMIN, build)


def _grace_seconds(values: dict[str, str], default: int) -> int:
    text = values.get("grace_seconds", str(default))
    if not (text.isascii() and text.isdigit()) or int(text) > 30 * 86_400:
        raise ApiError(400, "invalid_request", N_("The grace period is 0 to 2592000 seconds."))
    return int(text)


@bp.post("/admin/clients/<client_id:str>/disable")
async def disable(request: Request, client_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        _checked_form(request)
        client = await client_to_change(path_client_id(client_id))
        await disable_client(services_of(request), caller_of(request), viewer, client)
        return redirect(f"/admin/clients/{client_path(client.id)}?done=disabled", status=303)

    return await guarded(request, ADMIN, build)


@bp.post("/admin/clients/<client_id:str>/enable")
async def enable(request: Request, client_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        _checked_form(request)
        client = await client_to_change(path_client_id(client_id))
        changes = {"disabled": False}
        await update_client(services_of(request), caller_of(request), viewer, client, changes)
        return redirect(f"/admin/clients/{client_path(client.id)}?done=enabled", status=303)

    return await guarded(request, ADMIN, build)


@bp.post("/admin/clients/<client_id:str>/delete")
async def delete(request: Request, client_id: str) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        values = _checked_form(request)
        client = await client_to_change(path_client_id(client_id))
        if values.get("confirm") != client.id:
            raise ApiError(
                400, "invalid_request", N_("Type the client id to confirm the deletion.")
            )
        revoked = await delete_client(services_of(request), caller_of(request), viewer, client)
        return await render_admin(
            request, "admin/client_deleted.html", viewer, {"name": client.name, "revoked": revoked}
        )

    return await guarded(request, ADMIN, build)


async def _invite_page(
    request: Request,
    viewer: User,
    values: dict[str, str],
    problems: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await render_admin(
        request,
        "admin/user_new.html",
        viewer,
        {"form": values, "roles": ROLES, "problems": problems or {}},
        status=status,
    )


@bp.get("/admin/users/new")
async def new_user(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _invite_page(request, viewer, {"role": "user"})

    return await guarded(request, ADMIN, build)


@bp.post("/admin/users/new")
async def invite(request: Request) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        values = _checked_form(request)
        try:
            invitation = await invite_user(
                services,
                caller_of(request),
                viewer,
                email=values.get("email", ""),
                name=values.get("name", ""),
                role=values.get("role", "user"),
            )
        except ValidationFailed as exc:
            return await _invite_page(request, viewer, values, exc.problems, status=422)
        except EmailTaken:
            problems = {"email": ["An account with this email already exists."]}
            return await _invite_page(request, viewer, values, problems, status=409)
        return redirect(f"/admin/users/{invitation.user.id}?done=invited", status=303)

    return await guarded(request, ADMIN, build)


@bp.get("/admin/keys")
async def keys(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        settings = services_of(request).settings
        return await render_admin(
            request,
            "admin/keys.html",
            viewer,
            {
                "keys": signing_keys(settings),
                "algorithms": ALGORITHMS,
                "delay": settings.key_activation_delay,
                "added": request.args.get("added"),
            },
        )

    return await guarded(request, READERS, build)


@bp.post("/admin/keys/rotate")
async def rotate_key(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        values = _checked_form(request)
        alg = next((name for name in ALGORITHMS if name == values.get("alg")), None)
        if alg is None:
            raise ApiError(400, "invalid_request", N_("Choose one of the algorithms offered."))
        added = await rotate_signing_key(services_of(request), caller_of(request), viewer, alg)
        return redirect(f"/admin/keys?added={added.kid}", status=303)

    return await guarded(request, ADMIN, build)
