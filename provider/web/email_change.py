"""Changing the email address on the pages: /account/email asks, and the two mailed links
(/email/change/confirm, /email/change/cancel) finish or undo it.

A link's GET only shows a button: mail scanners and link previews fetch links, and must not spend
a single-use token. The POST (with CSRF) calls the same use cases as /v1/auth/email/change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.email_change import (
    CANCEL_EMAIL_CHANGE,
    CHANGE_EMAIL,
    cancel_email_change,
    confirm_email_change,
    invalid_change_link,
    request_email_change,
)
from provider.accounts.one_time_tokens import find_one_time_token
from provider.context import Caller, Services
from provider.domain_errors import (
    DomainError,
    EmailTaken,
    IncorrectPassword,
    ReauthenticationRequired,
    ValidationFailed,
)
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.params import form_params
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_, Message, sentence
from provider.storage.models import User
from provider.web.common import signed_in_form, signed_in_or_redirect, with_headers

bp = Blueprint("web_email_change")

LINKS: dict[str, tuple[str, str, str]] = {
    # path: (token purpose, page title, button)
    "/email/change/confirm": (CHANGE_EMAIL, N_("Confirm your new email address"), N_("Confirm")),
    "/email/change/cancel": (
        CANCEL_EMAIL_CHANGE,
        N_("Cancel the email change"),
        N_("Cancel the change"),
    ),
}


async def _email_page(
    request: Request,
    user: User,
    *,
    errors: dict[str, list[str]] | None = None,
    error: str | None = None,
    new_email: str = "",
    status: int = 200,
) -> HTTPResponse:
    return await page(
        request,
        "account_email.html",
        {"user": user, "errors": errors or {}, "error": error, "new_email": new_email},
        status=status,
    )


@bp.get("/account/email")
async def email_form(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    return await _email_page(request, found.user)


@bp.post("/account/email")
async def submit_email(request: Request) -> HTTPResponse:
    posted = await signed_in_form(request, back="/account/email")
    if isinstance(posted, HTTPResponse):
        return posted
    found, form = posted.session, posted.form
    typed = (form.get("new_email") or "")[:320]
    password = (form.get("current_password") or "")[:256]
    try:
        pending = await request_email_change(
            services_of(request),
            caller_of(request),
            found.user,
            found,
            new_address=typed,
            current_password=password or None,
        )
    except ValidationFailed as exc:
        return await _email_page(
            request, found.user, errors=exc.problems, new_email=typed, status=http_status(exc)
        )
    except EmailTaken as exc:
        errors = {"new_email": ["belongs to another account"]}
        return await _email_page(
            request, found.user, errors=errors, new_email=typed, status=http_status(exc)
        )
    except (IncorrectPassword, ReauthenticationRequired) as exc:
        errors = {"current_password": ["is incorrect" if password else "is required"]}
        return await _email_page(
            request, found.user, errors=errors, new_email=typed, status=http_status(exc)
        )
    except DomainError as exc:
        failed = await _email_page(
            request, found.user, error=exc.message, new_email=typed, status=http_status(exc)
        )
        return with_headers(failed, exc)
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Check your new address"),
            "message": sentence(
                "We sent a link to %(new)s: your address changes when you open it. "
                "%(old)s got a notice with a link that cancels the change.",
                new=pending,
                old=found.user.email,
            ),
            "links": [("/account", N_("Back to your account"))],
        },
    )


def _token(value: str | None) -> str | None:
    return value if value and len(value) <= 128 else None


async def _show_link(request: Request) -> HTTPResponse:
    purpose, title, button = LINKS[request.path]
    token = _token(request.args.get("token"))
    row = await find_one_time_token(token, purpose) if token else None
    if token is None or row is None:
        return await error_page(request, invalid_change_link().message, title=title)
    return await page(
        request,
        "email_change_link.html",
        {
            "title": title,
            "button": button,
            "action": request.path,
            "token": token,
            "old_email": row.data.get("old_email", ""),
            "new_email": row.data.get("new_email", ""),
        },
    )


async def _submit_link(
    request: Request,
    use_case: Callable[[Services, Caller, str], Awaitable[User]],
    done: Callable[[User], str | Message],
) -> HTTPResponse:
    _, title, _ = LINKS[request.path]
    services = services_of(request)
    form = form_params(request)
    verify_csrf(request, services.settings, form.get("csrf"))
    try:
        user = await use_case(services, caller_of(request), _token(form.get("token")) or "")
    except DomainError as exc:
        failed = await error_page(request, exc.message, status=http_status(exc), title=title)
        return with_headers(failed, exc)
    return await page(
        request,
        "notice.html",
        {"title": title, "message": done(user), "links": [("/account", N_("Go to your account"))]},
    )


@bp.get("/email/change/confirm")
async def show_confirm(request: Request) -> HTTPResponse:
    return await _show_link(request)


@bp.post("/email/change/confirm")
async def submit_confirm(request: Request) -> HTTPResponse:
    return await _submit_link(
        request,
        confirm_email_change,
        lambda user: sentence("Your address is now %(email)s.", email=user.email),
    )


@bp.get("/email/change/cancel")
async def show_cancel(request: Request) -> HTTPResponse:
    return await _show_link(request)


@bp.post("/email/change/cancel")
async def submit_cancel(request: Request) -> HTTPResponse:
    return await _submit_link(
        request,
        cancel_email_change,
        lambda user: sentence(
            "The change is cancelled: your address is %(email)s.", email=user.email
        ),
    )
