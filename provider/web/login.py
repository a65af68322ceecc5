"""GET|POST /login: the hosted sign-in page of an authorization flow.

Without a `flow`, it signs the browser in to the provider's own pages (`/login?next=/admin`) and
then goes to `next`, which must be a path on this site. The password is checked by the
`sign_in` use case of the JSON API (provider.accounts.sign_in: the same limits, lockout and
audit); with two-factor authentication on it leads to /login/mfa (provider.web.mfa). The session
is started by the use case (provider.accounts.login.finish_login), as for the JSON API.

The page also starts a passkey ceremony: a "Sign in with a passkey" button and the browser's
autofill of the username field (conditional UI) answer it at /login/passkey
(provider.web.passkey_sign_in). Without JavaScript the password form works alone.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.passkey_authentication import begin_passkey_sign_in
from provider.accounts.sign_in import Credentials, SecondFactorRequired
from provider.accounts.sign_in import sign_in as password_sign_in
from provider.cache.base import CacheUnavailable
from provider.domain_errors import AccountDisabled, DomainError
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import browser_session
from provider.http.errors import http_status
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.oauth.clients import find_client
from provider.oauth.flows import Flow, load_flow
from provider.web.common import EXPIRED, local_path, page_url, with_headers
from provider.web.federation import upstream_buttons
from provider.web.passkey_ceremony import PasskeyStep, keep_ceremony, passkey_step
from provider.web.signin import (
    after_sign_in,
    browser_sign_in,
    posted_sign_in,
    to_second_factor,
)

bp = Blueprint("web_login")

__all__ = ["EXPIRED", "bp", "local_path", "login_page"]


async def login_page(
    request: Request,
    flow: Flow | None,
    *,
    identifier: str = "",
    error: str | None = None,
    status: int = 200,
    next_path: str | None = None,
    reauth: bool = False,
    restorable: bool = False,
) -> HTTPResponse:
    client = await find_client(flow.request.client_id, include_disabled=True) if flow else None
    back = {"flow": flow.id if flow else None, "next": next_path}
    passkey = await _passkey_sign_in(request)
    response = await page(
        request,
        "login.html",
        {
            **(passkey.context() if passkey else {}),
            "flow": flow.id if flow else None,
            "next": next_path,
            "reauth": reauth,
            "client_name": client.name if client else None,
            "client_logo": client.logo_uri if client else None,
            "identifier": identifier or (flow.request.login_hint if flow else None) or "",
            "error": error,
            "register_url": page_url("/register", **back),
            "forgot_url": page_url("/password/forgot", **back),
            # Also to confirm it's you: an account without a password proves itself upstream.
            "upstream": await upstream_buttons(back["flow"], back["next"]),
            # A deleted account is offered its restore (possible only in the grace period).
            "restore_url": page_url("/account/restore", **back) if restorable else None,
        },
        status=status,
        # CSP form-action also governs the redirects after the POST, up to the client.
        form_targets=[flow.request.redirect_uri] if flow else None,
        script_nonce=passkey.nonce if passkey else "",
        images=[client.logo_uri] if client and client.logo_uri else None,
        flow=flow,
    )
    keep_ceremony(request, response, passkey)
    return response


async def _passkey_sign_in(request: Request) -> PasskeyStep | None:
    """A passkey ceremony for the button and the autofill; the page goes on without one when
    none can start (a rate limit, the cache unreachable): the password still works."""
    try:
        started = await begin_passkey_sign_in(services_of(request), caller_of(request))
    except (DomainError, CacheUnavailable):
        return None
    return passkey_step(started, "sign-in", "/login/passkey", N_("Sign in with a passkey"))


@bp.get("/login")
async def show_login(request: Request) -> HTTPResponse:
    flow_id = request.args.get("flow")
    if flow_id is None:
        next_path = local_path(request.args.get("next"))
        if request.args.get("reauth") == "1":
            return await _confirm_identity_page(request, next_path)
        return await login_page(request, None, next_path=next_path)
    flow = await load_flow(services_of(request).cache, flow_id)
    if flow is None:
        return await error_page(request, EXPIRED)
    return await login_page(request, flow)


async def _confirm_identity_page(request: Request, next_path: str | None) -> HTTPResponse:
    """The signed-in user asked again for the password (then the second factor, when on): the
    sign-in that follows renews the session's auth_time (finish_login) and returns to `next`."""
    session = await browser_session(request, services_of(request).settings)
    identifier = (session.user.username or session.user.email) if session else ""
    return await login_page(
        request, None, identifier=identifier, next_path=next_path, reauth=session is not None
    )


@bp.post("/login")
async def submit_login(request: Request) -> HTTPResponse:
    services = services_of(request)
    posted = await posted_sign_in(request)
    if isinstance(posted, HTTPResponse):
        return posted
    form, flow, next_path = posted.form, posted.flow, posted.next_path
    identifier = (form.get("identifier") or "")[:254]
    password = (form.get("password") or "")[:256]
    if not identifier or not password:
        return await login_page(
            request,
            flow,
            identifier=identifier,
            error=N_("Enter your email or username and password."),
            status=400,
            next_path=next_path,
        )
    browser = await browser_sign_in(request)
    try:
        # The same use case as POST /v1/auth/sessions: shared limits, lockout and audit.
        credentials = Credentials(identifier, password)
        outcome = await password_sign_in(
            services, caller_of(request), lambda: credentials, start=browser.session_start(flow)
        )
    except DomainError as exc:
        response = await login_page(
            request,
            flow,
            identifier=identifier,
            error=exc.message,
            status=http_status(exc),
            next_path=next_path,
            reauth=form.get("reauth") == "1",
            restorable=isinstance(exc, AccountDisabled),
        )
        return with_headers(response, exc)
    if isinstance(outcome, SecondFactorRequired):
        return to_second_factor(request, outcome.challenge, flow=flow, next_path=next_path)
    return await after_sign_in(request, outcome.login, browser, flow=flow, next_path=next_path)
