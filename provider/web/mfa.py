"""Two-factor authentication on the hosted pages.

GET|POST /login/mfa is the second step of a sign-in: after the password (provider.web.login), or
as a step-up of a password-only session (provider.protocol.authorize_flow). The pending sign-in is a
challenge token of provider.accounts.second_factor.start_mfa_challenge in an HttpOnly cookie
(single use, short-lived, bound to this browser's address and User-Agent); the use case of
POST /v1/auth/mfa/verify, complete_second_factor, checks the code (on the same counters: wrong
codes count toward the lockout, a code is accepted once) and finishes the login. A user with a
passkey can answer with it instead (POST /login/mfa/passkey, the same use case).

/account/mfa lets a signed-in user turn TOTP on (QR code and secret, a first code, then the
backup codes shown once), get new backup codes, or turn it off (password and a code both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.mfa import (
    confirm_totp_enrolment,
    disable_totp,
    mfa_status,
    pending_enrolment,
    regenerate_backup_codes,
    start_totp_enrolment,
)
from provider.accounts.one_time_tokens import MFA_LOGIN, find_one_time_token
from provider.accounts.passkey_authentication import PasskeyAnswer
from provider.accounts.second_factor import (
    SecondFactorAnswer,
    begin_passkey_second_step,
    challenged_methods,
    complete_second_factor,
)
from provider.cache.base import CacheUnavailable
from provider.domain_errors import (
    DomainError,
    InvalidEnrolmentCode,
    InvalidMfaToken,
    InvalidRequest,
    ReauthenticationRequired,
)
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import MFA_COOKIE, clear_cookie, cookie_name
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.params import form_params
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.oauth.clients import find_client
from provider.oauth.flows import Flow, load_flow
from provider.storage.models import Session, User
from provider.web.common import (
    EXPIRED,
    local_path,
    page_url,
    signed_in_form,
    signed_in_or_redirect,
    with_headers,
)
from provider.web.login import login_page
from provider.web.passkey_ceremony import PasskeyStep, ceremony_of, keep_ceremony, passkey_step
from provider.web.signin import after_sign_in, browser_sign_in

bp = Blueprint("web_mfa")

START_AGAIN = N_("Your sign-in attempt has expired. Sign in again.")
CODE_MAX_LENGTH = 32
DONE = {"disabled": N_("Two-factor authentication is off.")}


# --- /login/mfa: the second step of a sign-in ------------------------------------------------


def _challenge(request: Request) -> str | None:
    value = request.cookies.get(cookie_name(services_of(request).settings, MFA_COOKIE))
    return value if value and len(value) <= 128 else None


async def _code_page(
    request: Request,
    flow: Flow | None,
    next_path: str | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    client = await find_client(flow.request.client_id, include_disabled=True) if flow else None
    token = _challenge(request)
    methods = await challenged_methods(caller_of(request), token)
    passkey = await _passkey_step(request, token) if "passkey" in methods else None
    response = await page(
        request,
        "mfa.html",
        {
            **(passkey.context() if passkey else {}),
            "totp": "totp" in methods,
            "flow": flow.id if flow else None,
            "next": next_path,
            "client_name": client.name if client else None,
            "error": error,
            "restart_url": page_url("/login", flow=flow.id if flow else None, next=next_path),
        },
        status=status,
        # CSP form-action also governs the redirects after the POST, up to the client.
        form_targets=[flow.request.redirect_uri] if flow else None,
        script_nonce=passkey.nonce if passkey else "",
        flow=flow,
    )
    keep_ceremony(request, response, passkey)
    return response


async def _passkey_step(request: Request, token: str | None) -> PasskeyStep | None:
    """The user's passkeys as the second step; without a ceremony, the code form alone."""
    try:
        started = await begin_passkey_second_step(services_of(request), caller_of(request), token)
    except (DomainError, CacheUnavailable):
        return None
    return passkey_step(started, "second-step", "/login/mfa/passkey", N_("Use a passkey"))


async def _start_again(
    request: Request, flow: Flow | None, next_path: str | None, status: int
) -> HTTPResponse:
    response = await login_page(
        request, flow, error=START_AGAIN, status=status, next_path=next_path
    )
    clear_cookie(response, services_of(request).settings, MFA_COOKIE)
    return response


async def _flow_of(request: Request, values: dict[str, str]) -> tuple[Flow | None, bool]:
    """The flow named in `values` and whether it was named (so a missing one has expired)."""
    if "flow" not in values:
        return None, False
    return await load_flow(services_of(request).cache, values["flow"]), True


@bp.get("/login/mfa")
async def show_code_page(request: Request) -> HTTPResponse:
    args = {name: request.args.get(name) or "" for name in ("flow", "next")}
    flow, named = await _flow_of(request, {k: v for k, v in args.items() if v})
    if named and flow is None:
        return await error_page(request, EXPIRED)
    next_path = local_path(args["next"]) if flow is None else None
    token = _challenge(request)
    if token is None or await find_one_time_token(token, MFA_LOGIN) is None:
        return await _start_again(request, flow, next_path, 200)
    return await _code_page(request, flow, next_path)


@bp.post("/login/mfa")
async def submit_code(request: Request) -> HTTPResponse:
    """The second step answered with a TOTP or backup code."""

    def answer(token: str | None, form: dict[str, str]) -> SecondFactorAnswer:
        return _answer(token, (form.get("code") or "").strip()[:CODE_MAX_LENGTH])

    return await _second_step(request, answer)


@bp.post("/login/mfa/passkey")
async def submit_passkey(request: Request) -> HTTPResponse:
    """The second step answered with one of the user's passkeys."""

    def answer(token: str | None, form: dict[str, str]) -> SecondFactorAnswer:
        return _passkey_answer(
            token, PasskeyAnswer(ceremony_of(request), form.get("credential") or "")
        )

    return await _second_step(request, answer)


async def _second_step(
    request: Request, answer: Callable[[str | None, dict[str, str]], SecondFactorAnswer]
) -> HTTPResponse:
    """Either answer goes through the use case of POST /v1/auth/mfa/verify
    (complete_second_factor), so a code and a passkey share one count of attempts and one
    lockout; `answer` runs once the attempt is counted."""
    services = services_of(request)
    form = form_params(request)
    verify_csrf(request, services.settings, form.get("csrf"))
    flow, named = await _flow_of(request, form)
    if named and flow is None:
        return await error_page(request, EXPIRED)
    next_path = local_path(form.get("next")) if flow is None else None
    token = _challenge(request)
    browser = await browser_sign_in(request)
    try:
        accepted = await complete_second_factor(
            services,
            caller_of(request),
            lambda: answer(token, form),
            start=browser.session_start(flow),
        )
    except InvalidMfaToken:
        return await _start_again(request, flow, next_path, 401)
    except DomainError as exc:
        failed = await _code_page(
            request, flow, next_path, error=exc.message, status=http_status(exc)
        )
        return with_headers(failed, exc)
    return await after_sign_in(request, accepted.login, browser, flow=flow, next_path=next_path)


def _passkey_answer(token: str | None, passkey: PasskeyAnswer) -> SecondFactorAnswer:
    if token is None:
        raise InvalidMfaToken()
    return SecondFactorAnswer(token, passkey=passkey)


def _answer(token: str | None, code: str) -> SecondFactorAnswer:
    """The pending sign-in of this browser and its code, once the attempt is counted."""
    if token is None:
        raise InvalidMfaToken()
    if not code:
        raise InvalidRequest(N_("Enter the code from your authenticator app, or a backup code."))
    return SecondFactorAnswer(token, code)


# --- /account/mfa: turning two-factor authentication on and off -------------------------------


async def _account_page(
    request: Request,
    user: User,
    next_path: str | None,
    *,
    error: str | None = None,
    error_form: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    enrolment = pending_enrolment(services_of(request).settings, user)
    context: dict[str, Any] = {
        "status": await mfa_status(user),
        "enrolment": enrolment,
        # Groups of four, as authenticator apps show them; spaces are ignored when typed in.
        "secret_groups": _groups(enrolment.secret) if enrolment else None,
        "next": next_path,
        "error": error,
        "error_form": error_form,
        "notice": notice,
    }
    return await page(request, "account_mfa.html", context, status=status)


def _groups(secret: str) -> str:
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


async def _signed_in_form(
    request: Request,
) -> tuple[Session, dict[str, str], str | None] | HTTPResponse:
    """The session of a POST to /account/mfa/…, its checked form, and where to return after."""
    posted = await signed_in_form(request, back="/account/mfa")
    if isinstance(posted, HTTPResponse):
        return posted
    found, form = posted.session, posted.form
    return found, form, local_path(form.get("next"))


def _account_url(next_path: str | None, **params: str) -> str:
    return page_url("/account/mfa", next=next_path, **params)


def _confirm_identity(next_path: str | None) -> HTTPResponse:
    """The sign-in is too old to add a factor: the login page asks again, then comes back."""
    return redirect(page_url("/login", next=_account_url(next_path), reauth="1"), status=303)


@bp.get("/account/mfa")
async def account_mfa(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    notice = DONE.get(request.args.get("done") or "")
    return await _account_page(
        request, found.user, local_path(request.args.get("next")), notice=notice
    )


@bp.post("/account/mfa/start")
async def start_enrolment(request: Request) -> HTTPResponse:
    found = await _signed_in_form(request)
    if isinstance(found, HTTPResponse):
        return found
    session, _, next_path = found
    try:
        await start_totp_enrolment(services_of(request), caller_of(request), session.user, session)
    except ReauthenticationRequired:
        return _confirm_identity(next_path)
    except DomainError as exc:
        return await _account_page(
            request, session.user, next_path, error=exc.message, status=http_status(exc)
        )
    # Post/redirect/get: reloading the page shows the same secret, it does not make a new one.
    return redirect(_account_url(next_path), status=303)


@bp.post("/account/mfa/confirm")
async def confirm_enrolment(request: Request) -> HTTPResponse:
    found = await _signed_in_form(request)
    if isinstance(found, HTTPResponse):
        return found
    session, form, next_path = found
    code = (form.get("code") or "").strip()[:CODE_MAX_LENGTH]
    try:
        if not code:
            raise InvalidEnrolmentCode(N_("Enter the 6-digit code from your app."))
        codes = await confirm_totp_enrolment(
            services_of(request), caller_of(request), session.user, session, code
        )
    except ReauthenticationRequired:
        return _confirm_identity(next_path)
    except DomainError as exc:
        return await _account_page(
            request,
            session.user,
            next_path,
            error=exc.message,
            error_form="confirm",
            status=http_status(exc),
        )
    return await _backup_codes_page(
        request, codes, next_path, N_("Two-factor authentication is on")
    )


@bp.post("/account/mfa/backup-codes")
async def new_backup_codes(request: Request) -> HTTPResponse:
    found = await _signed_in_form(request)
    if isinstance(found, HTTPResponse):
        return found
    session, form, next_path = found
    try:
        codes = await regenerate_backup_codes(
            services_of(request),
            caller_of(request),
            session.user,
            session,
            **_password_and_code(form),
        )
    except DomainError as exc:
        failed = await _account_page(
            request,
            session.user,
            next_path,
            error=exc.message,
            error_form="regenerate",
            status=http_status(exc),
        )
        return with_headers(failed, exc)
    return await _backup_codes_page(request, codes, next_path, N_("New backup codes"))


@bp.post("/account/mfa/disable")
async def turn_off(request: Request) -> HTTPResponse:
    found = await _signed_in_form(request)
    if isinstance(found, HTTPResponse):
        return found
    session, form, next_path = found
    try:
        await disable_totp(
            services_of(request),
            caller_of(request),
            session.user,
            session,
            **_password_and_code(form),
        )
    except DomainError as exc:
        failed = await _account_page(
            request,
            session.user,
            next_path,
            error=exc.message,
            error_form="disable",
            status=http_status(exc),
        )
        return with_headers(failed, exc)
    return redirect(_account_url(next_path, done="disabled"), status=303)


def _password_and_code(form: dict[str, str]) -> dict[str, str]:
    """Both are required, as in the JSON API's body; neither is checked before the service."""
    password = (form.get("password") or "")[:256]
    code = (form.get("code") or "").strip()[:CODE_MAX_LENGTH]
    if not password or not code:
        raise InvalidRequest(N_("Enter your password and a code."))
    return {"password": password, "code": code}


async def _backup_codes_page(
    request: Request, codes: list[str], next_path: str | None, title: str
) -> HTTPResponse:
    """The codes in clear, this one time (the page is never cached: Cache-Control no-store)."""
    return await page(
        request,
        "backup_codes.html",
        {"title": title, "codes": codes, "next": next_path},
    )
