"""/account/devices: the signed-in user's sessions, each with "sign out", and "sign out
everywhere else". The rules are the core's (`provider.sessions.user_devices`), as for the JSON
API's /v1/auth/sessions."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.domain_errors import NotFound
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import http_status
from provider.http.locale import page_translator
from provider.http.render import page
from provider.i18n.catalogues import N_
from provider.sessions.user_devices import devices_of, sign_out_device, sign_out_other_devices
from provider.storage.models import Session
from provider.web.common import signed_in_form, signed_in_or_redirect

bp = Blueprint("web_devices")

NOTICES = {
    "one": N_("That device is signed out."),
    "others": N_("Every other device is signed out."),
}


async def _devices_page(
    request: Request, session: Session, *, error: str | None = None, status: int = 200
) -> HTTPResponse:
    language = (await page_translator(request)).locale
    devices = await devices_of(services_of(request), session.user, session, language)
    return await page(
        request,
        "account_devices.html",
        {
            "devices": devices,
            "notice": NOTICES.get(request.args.get("done") or ""),
            "error": error,
        },
        status=status,
    )


@bp.get("/account/devices")
async def devices(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    return await _devices_page(request, found)


@bp.post("/account/devices/sign-out")
async def sign_out_one(request: Request) -> HTTPResponse:
    posted = await signed_in_form(request, back="/account/devices")
    if isinstance(posted, HTTPResponse):
        return posted
    found, form = posted.session, posted.form
    target = (form.get("session_id") or "")[:64]
    if target == str(found.id):
        # Signing this browser out is what /logout is for: it also ends the OIDC session.
        return redirect("/logout", status=303)
    try:
        await sign_out_device(services_of(request), caller_of(request), found.user, target)
    except NotFound as exc:
        return await _devices_page(request, found, error=exc.message, status=http_status(exc))
    return redirect("/account/devices?done=one", status=303)


@bp.post("/account/devices/sign-out-others")
async def sign_out_others(request: Request) -> HTTPResponse:
    posted = await signed_in_form(request, back="/account/devices")
    if isinstance(posted, HTTPResponse):
        return posted
    found = posted.session
    await sign_out_other_devices(services_of(request), caller_of(request), found.user, found)
    return redirect("/account/devices?done=others", status=303)
