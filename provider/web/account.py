"""The signed-in user's own pages: /account (a summary and links) and /account/password.

Without a live browser session they redirect to /login?next=… and come back after sign-in.
Changing the password calls provider.accounts.password_reset.change_password, as the JSON API
does: the current password is checked (a wrong one counts toward the lockout), the policy
applies, and every other session of the user ends.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.mfa import mfa_enabled
from provider.accounts.password_reset import change_password
from provider.domain_errors import DomainError, IncorrectPassword, ValidationFailed
from provider.federation.linking import providers_of
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.params import form_params
from provider.http.render import page
from provider.i18n.catalogues import N_, plural_sentence
from provider.storage.models import User
from provider.web.common import signed_in_or_redirect, with_headers

bp = Blueprint("web_account")

NOTICES = {
    "resent": "A new verification link is on its way.",
    "linked": N_("The provider is linked: you can sign in with it."),
    "unlinked": N_("The provider is no longer linked to your account."),
}


@bp.get("/account")
async def account(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    user = found.user
    return await page(
        request,
        "account.html",
        {
            "user": user,
            "verified": user.email_verified_at is not None,
            "mfa_on": mfa_enabled(user),
            "providers": await providers_of(user),
            "notice": NOTICES.get(request.args.get("done") or ""),
        },
    )


async def _password_page(
    request: Request,
    user: User,
    *,
    errors: dict[str, list[str]] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await page(
        request,
        "account_password.html",
        {"user": user, "errors": errors or {}, "error": error},
        status=status,
    )


@bp.get("/account/password")
async def password_form(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    return await _password_page(request, found.user)


@bp.post("/account/password")
async def submit_password(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request, back="/account/password")
    if isinstance(found, HTTPResponse):
        return found
    session, user = found, found.user
    form = form_params(request)
    verify_csrf(request, services_of(request).settings, form.get("csrf"))
    current = (form.get("current_password") or "")[:256]
    new = (form.get("new_password") or "")[:257]  # one past the limit, so the policy says so
    missing = {
        name: ["is required"]
        for name, value in (("current_password", current), ("new_password", new))
        if not value
    }
    if missing:
        return await _password_page(request, user, errors=missing, status=400)
    try:
        revoked = await change_password(
            services_of(request),
            caller_of(request),
            user,
            session,
            current_password=current,
            new_password=new,
        )
    except ValidationFailed as exc:
        errors = {"new_password": list(exc.problems.get("password", []))}
        return await _password_page(request, user, errors=errors, status=http_status(exc))
    except IncorrectPassword as exc:
        errors = {"current_password": ["is incorrect"]}
        return await _password_page(request, user, errors=errors, status=http_status(exc))
    except DomainError as exc:
        failed = await _password_page(request, user, error=exc.message, status=http_status(exc))
        return with_headers(failed, exc)
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Password changed"),
            "message": plural_sentence(
                "Your password is changed; %(count)s other session signed out.",
                "Your password is changed; %(count)s other sessions signed out.",
                revoked,
            ),
            "links": [("/account", N_("Back to your account"))],
        },
    )
