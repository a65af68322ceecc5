"""/account/passkeys: the signed-in user's passkeys, and adding, renaming and removing one.

Each action calls the use case of the JSON API (provider.accounts.passkeys): adding and removing
need a recent sign-in (without one, the login page asks again and comes back here), the last way
to sign in cannot be removed, and every change is audited. Adding runs the registration ceremony
in the browser (provider/web/static/passkeys.js); the list, renaming and removing work without
JavaScript.
"""

from __future__ import annotations

from contextlib import suppress

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.auth_age import recently_authenticated
from provider.accounts.passkeys import (
    begin_passkey_registration,
    finish_passkey_registration,
    passkeys_of,
    remove_passkey,
    rename_passkey,
)
from provider.cache.base import CacheUnavailable
from provider.domain_errors import DomainError, ReauthenticationRequired
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import http_status
from provider.http.render import page
from provider.i18n.catalogues import N_
from provider.storage.models import Session
from provider.web.common import page_url, signed_in_form, signed_in_or_redirect, with_headers
from provider.web.passkey_ceremony import ceremony_of, keep_ceremony, passkey_step

bp = Blueprint("web_passkeys")

HERE = "/account/passkeys"
DONE = {
    "added": N_("The passkey is added: you can sign in with it."),
    "renamed": N_("The passkey is renamed."),
    "removed": N_("The passkey is removed."),
}


async def _passkeys_page(
    request: Request, session: Session, *, error: str | None = None, status: int = 200
) -> HTTPResponse:
    services = services_of(request)
    step = None
    if recently_authenticated(services.settings, session):
        # Without the cache no ceremony can start: the list still shows, without the add form.
        with suppress(CacheUnavailable):
            started = await begin_passkey_registration(
                services, caller_of(request), session.user, session
            )
            step = passkey_step(started, "register", HERE, N_("Add a passkey"))
    response = await page(
        request,
        "account_passkeys.html",
        {
            **(step.context() if step else {}),
            "passkeys": await passkeys_of(session.user_id),
            "confirm_url": page_url("/login", next=HERE, reauth="1"),
            "error": error,
            "notice": DONE.get(request.args.get("done") or ""),
        },
        status=status,
        script_nonce=step.nonce if step else "",
    )
    keep_ceremony(request, response, step)
    return response


async def _refused(request: Request, session: Session, exc: DomainError) -> HTTPResponse:
    """The page again, saying why the change was refused, with the refusal's status."""
    failed = await _passkeys_page(request, session, error=exc.message, status=http_status(exc))
    return with_headers(failed, exc)


def _confirm_identity() -> HTTPResponse:
    return redirect(page_url("/login", next=HERE, reauth="1"), status=303)


@bp.get(HERE)
async def show_passkeys(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    return await _passkeys_page(request, found)


@bp.post(HERE)
async def add_passkey(request: Request) -> HTTPResponse:
    posted = await signed_in_form(request, back=HERE)
    if isinstance(posted, HTTPResponse):
        return posted
    session, form = posted.session, posted.form
    try:
        await finish_passkey_registration(
            services_of(request),
            caller_of(request),
            session.user,
            session,
            ceremony=ceremony_of(request),
            response=form.get("credential") or "",
            name=(form.get("name") or "")[:65],
        )
    except ReauthenticationRequired:
        return _confirm_identity()
    except DomainError as exc:
        return await _refused(request, session, exc)
    return redirect(page_url(HERE, done="added"), status=303)


@bp.post(f"{HERE}/<passkey_id:str>/rename")
async def rename(request: Request, passkey_id: str) -> HTTPResponse:
    posted = await signed_in_form(request, back=HERE)
    if isinstance(posted, HTTPResponse):
        return posted
    session, form = posted.session, posted.form
    try:
        await rename_passkey(
            services_of(request),
            caller_of(request),
            session.user,
            session,
            passkey_id,
            (form.get("name") or "")[:65],
        )
    except DomainError as exc:
        return await _refused(request, session, exc)
    return redirect(page_url(HERE, done="renamed"), status=303)


@bp.post(f"{HERE}/<passkey_id:str>/remove")
async def remove(request: Request, passkey_id: str) -> HTTPResponse:
    posted = await signed_in_form(request, back=HERE)
    if isinstance(posted, HTTPResponse):
        return posted
    session = posted.session
    try:
        await remove_passkey(
            services_of(request), caller_of(request), session.user, session, passkey_id
        )
    except ReauthenticationRequired:
        return _confirm_identity()
    except DomainError as exc:
        return await _refused(request, session, exc)
    return redirect(page_url(HERE, done="removed"), status=303)
