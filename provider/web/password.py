"""A forgotten password: /password/forgot (mail a link) and /password/reset?token=… (a new one).

The request page answers the same whether or not an account uses the address (OWASP Forgot
Password Cheat Sheet), under the limits of POST /v1/auth/password/forgot on the same counters.
The reset page shows a form on GET and spends the single-use token only with a POST whose new
password the policy accepts (provider.accounts.password_reset.reset_password): every session of
the user ends, and the user signs in again with the new password.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.one_time_tokens import RESET_PASSWORD, find_one_time_token
from provider.accounts.password_reset import (
    RESET_MAIL_PROMISE,
    NewPassword,
    forgot_password,
    invalid_reset_token,
    reset_password,
)
from provider.domain_errors import DomainError, InvalidRequest, ValidationFailed
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.locale import page_caller
from provider.http.params import form_params
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.web.common import (
    FormIncomplete,
    page_url,
    return_to,
    return_to_from_query,
    with_headers,
)

bp = Blueprint("web_password")

RESET_TITLE = N_("Choose a new password")


async def _forgot_page(
    request: Request,
    back: dict[str, str | None],
    *,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await page(
        request,
        "password_forgot.html",
        {**back, "email": email, "error": error, "login_url": page_url("/login", **back)},
        status=status,
    )


@bp.get("/password/forgot")
async def forgot_form(request: Request) -> HTTPResponse:
    return await _forgot_page(request, return_to_from_query(request))


@bp.post("/password/forgot")
async def submit_forgot(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    form = form_params(request)
    verify_csrf(request, settings, form.get("csrf"))
    back = return_to(form)
    email = form.get("email", "")
    caller = await page_caller(request)
    try:
        await forgot_password(services, caller, lambda: _account_email(email))
    except DomainError as exc:
        failed = await _forgot_page(
            request, back, email=email[:254], error=exc.message, status=http_status(exc)
        )
        return with_headers(failed, exc)
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Check your mail"),
            "message": RESET_MAIL_PROMISE,
            "links": [(page_url("/login", **back), N_("Back to sign in"))],
        },
    )


def _account_email(email: str) -> str:
    if not email or len(email) > 254:
        raise InvalidRequest(N_("Enter the email address of your account."))
    return email


def _token(value: str | None) -> str | None:
    return value if value and len(value) <= 128 else None


async def _reset_page(
    request: Request,
    token: str,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await page(
        request, "password_reset.html", {"token": token, "errors": errors or []}, status=status
    )


@bp.get("/password/reset")
async def reset_form(request: Request) -> HTTPResponse:
    token = _token(request.args.get("token"))
    if token is None or await find_one_time_token(token, RESET_PASSWORD) is None:
        return await error_page(request, invalid_reset_token().message, title=RESET_TITLE)
    return await _reset_page(request, token)


@bp.post("/password/reset")
async def submit_reset(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    form = form_params(request)
    verify_csrf(request, settings, form.get("csrf"))
    token = _token(form.get("token")) or ""
    password = (form.get("password") or "")[:257]  # one past the limit, so the policy says so
    caller = caller_of(request)
    try:
        # The use case of POST /v1/auth/password/reset: its limit, on the same counter.
        await reset_password(services, caller, lambda: _new_password(token, password))
    except FormIncomplete as exc:
        reasons = exc.problems["password"]
        return await _reset_page(request, token, errors=reasons, status=400)
    except ValidationFailed as exc:
        reasons = list(exc.problems.get("password", []))
        return await _reset_page(request, token, errors=reasons, status=http_status(exc))
    except DomainError as exc:
        failed = await error_page(request, exc.message, status=http_status(exc), title=RESET_TITLE)
        return with_headers(failed, exc)
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Password changed"),
            "message": N_(
                "Your password is changed and every session was signed out. "
                "Sign in with the new password."
            ),
            "links": [("/login?next=/account", N_("Sign in"))],
        },
    )


def _new_password(token: str, password: str) -> NewPassword:
    if not password:
        raise FormIncomplete({"password": ["is required"]})
    return NewPassword(token, password)
