"""/account/apps: the apps the signed-in user has connected, each with "remove access".

Removing access goes through `provider.oauth.connected_apps.remove_app_access`, as
DELETE /v1/auth/consents/<client_id> does.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.domain_errors import NotFound
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import http_status
from provider.http.render import page
from provider.i18n.catalogues import N_
from provider.oauth.connected_apps import connected_apps, remove_app_access
from provider.oauth.scopes import describe
from provider.storage.models import Session
from provider.web.common import signed_in_form, signed_in_or_redirect

bp = Blueprint("web_apps")


async def _apps_page(
    request: Request, session: Session, *, error: str | None = None, status: int = 200
) -> HTTPResponse:
    apps = await connected_apps(session.user)
    removed = N_("The app's access is removed.") if request.args.get("done") == "removed" else None
    return await page(
        request,
        "account_apps.html",
        {
            "apps": [(app, describe(app.scopes)) for app in apps],
            "notice": removed,
            "error": error,
        },
        status=status,
    )


@bp.get("/account/apps")
async def apps(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    return await _apps_page(request, found)


@bp.post("/account/apps/remove")
async def remove(request: Request) -> HTTPResponse:
    posted = await signed_in_form(request, back="/account/apps")
    if isinstance(posted, HTTPResponse):
        return posted
    found, form = posted.session, posted.form
    client_id = (form.get("client_id") or "")[:128]
    try:
        await remove_app_access(
            services_of(request), caller_of(request), found.user, found, client_id
        )
    except NotFound as exc:
        return await _apps_page(request, found, error=exc.message, status=http_status(exc))
    return redirect("/account/apps?done=removed", status=303)
