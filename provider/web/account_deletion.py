"""/account/delete, /account/restore and /account/export: the pages of "delete my account",
of restoring it during the grace period (offered where sign-in is refused), and the download of
"export my data". The rules are the core's, as for the JSON API."""

from __future__ import annotations

import json

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.account_deletion import delete_own_account, restore_own_account
from provider.accounts.account_export import export_account
from provider.domain_errors import DomainError, IncorrectPassword, ReauthenticationRequired
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import SESSION_COOKIE, clear_cookie
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.params import form_params
from provider.http.render import page
from provider.i18n.catalogues import N_, sentence
from provider.web.common import page_url, return_to, signed_in_or_redirect, with_headers

bp = Blueprint("web_account_deletion")


@bp.get("/account/delete")
async def delete_form(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    return await page(request, "account_delete.html", {"errors": {}, "error": None})


@bp.post("/account/delete")
async def submit_delete(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request, back="/account/delete")
    if isinstance(found, HTTPResponse):
        return found
    services = services_of(request)
    form = form_params(request)
    verify_csrf(request, services.settings, form.get("csrf"))
    password = (form.get("current_password") or "")[:256]
    try:
        user = await delete_own_account(
            services, caller_of(request), found.user, found, current_password=password or None
        )
    except (IncorrectPassword, ReauthenticationRequired) as exc:
        errors = {"current_password": ["is incorrect" if password else "is required"]}
        return await page(
            request,
            "account_delete.html",
            {"errors": errors, "error": None},
            status=http_status(exc),
        )
    except DomainError as exc:
        failed = await page(
            request,
            "account_delete.html",
            {"errors": {}, "error": exc.message},
            status=http_status(exc),
        )
        return with_headers(failed, exc)
    until = user.purge_after.strftime("%Y-%m-%d") if user.purge_after else "—"
    response = await page(
        request,
        "notice.html",
        {
            "title": N_("Your account is deleted"),
            "message": sentence(
                "Every device is signed out. Until %(until)s you can restore the account with "
                "your password; after that it is erased.",
                until=until,
            ),
            "links": [("/account/restore", N_("Restore your account"))],
        },
    )
    clear_cookie(response, services.settings, SESSION_COOKIE)
    return response


@bp.get("/account/restore")
async def restore_form(request: Request) -> HTTPResponse:
    back = return_to({name: request.args.get(name) or "" for name in ("flow", "next")})
    return await page(
        request,
        "account_restore.html",
        {"error": None, "identifier": request.args.get("identifier", "")[:254], **back},
    )


@bp.post("/account/restore")
async def submit_restore(request: Request) -> HTTPResponse:
    services = services_of(request)
    form = form_params(request)
    verify_csrf(request, services.settings, form.get("csrf"))
    back = return_to(form)
    identifier = (form.get("identifier") or "")[:254]
    password = (form.get("password") or "")[:256]
    try:
        await restore_own_account(
            services, caller_of(request), identifier=identifier, password=password
        )
    except DomainError as exc:
        failed = await page(
            request,
            "account_restore.html",
            {"error": exc.message, "identifier": identifier, **back},
            status=http_status(exc),
        )
        return with_headers(failed, exc)
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Your account is restored"),
            "message": N_("Welcome back. Sign in to continue."),
            "links": [(page_url("/login", **back), N_("Sign in"))],
        },
    )


@bp.get("/account/export")
async def export(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    document = await export_account(found.user)
    return HTTPResponse(
        json.dumps(document, indent=2),
        content_type="application/json",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="my-account.json"',
        },
    )
