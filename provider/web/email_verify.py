"""The link in the verification mail (/email/verify?token=…) and asking for a new one.

GET only shows a button: mail scanners and link previews fetch links, and must not spend a
single-use token. The POST (with CSRF) consumes it through
provider.accounts.email_verification.verify_email, as POST /v1/auth/email/verify does, under
the same rate limit. POST /email/resend mails a new link to the signed-in user.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.email_verification import (
    invalid_verification_token,
    resend_verification,
    verify_email,
)
from provider.accounts.one_time_tokens import VERIFY_EMAIL, find_one_time_token
from provider.domain_errors import DomainError
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import browser_session
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.params import form_params
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_, sentence
from provider.web.common import local_path, signed_in_or_redirect, with_headers

bp = Blueprint("web_email_verify")

TITLE = N_("Verify your email address")


def _token(value: str | None) -> str | None:
    return value if value and len(value) <= 128 else None


@bp.get("/email/verify")
async def show_verification(request: Request) -> HTTPResponse:
    token = _token(request.args.get("token"))
    row = await find_one_time_token(token, VERIFY_EMAIL) if token else None
    if token is None or row is None:
        return await error_page(request, invalid_verification_token().message, title=TITLE)
    return await page(
        request, "email_verify.html", {"token": token, "email": row.data.get("email", "")}
    )


@bp.post("/email/verify")
async def submit_verification(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    form = form_params(request)
    verify_csrf(request, settings, form.get("csrf"))
    caller = caller_of(request)
    try:
        # The use case of POST /v1/auth/email/verify: its limit, on the same counter.
        verified = await verify_email(services, caller, lambda: _token(form.get("token")) or "")
    except DomainError as exc:
        failed = await error_page(request, exc.message, status=http_status(exc), title=TITLE)
        return with_headers(failed, exc)
    user = verified.user
    signed_in = await browser_session(request, settings) is not None
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Email address verified"),
            "message": sentence("Thank you: %(email)s is verified.", email=user.email),
            "links": [
                ("/account", N_("Go to your account")) if signed_in else ("/login", N_("Sign in"))
            ],
        },
    )


@bp.post("/email/resend")
async def resend(request: Request) -> HTTPResponse:
    """A new link for the signed-in user; `next` is where the page after it leads."""
    services = services_of(request)
    settings = services.settings
    found = await signed_in_or_redirect(request, back="/account")
    if isinstance(found, HTTPResponse):
        return found
    form = form_params(request)
    verify_csrf(request, settings, form.get("csrf"))
    back = local_path(form.get("next")) or "/account"
    caller = caller_of(request)
    user = found.user
    try:
        # The limits of POST /v1/auth/email/resend, on the same counters.
        await resend_verification(services, caller, user)
    except DomainError as exc:
        failed = await page(
            request,
            "notice.html",
            {
                "title": N_("No new link sent"),
                "message": exc.message,
                "links": [(back, N_("Continue"))],
            },
            status=http_status(exc),
        )
        return with_headers(failed, exc)
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Check your mail"),
            "message": sentence(
                "We sent a new link to %(email)s. Open it, then continue here.", email=user.email
            ),
            "links": [(back, N_("Continue"))],
        },
    )
