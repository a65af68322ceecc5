"""The last steps of a sign-in on the hosted pages, after the password or the second factor.

The session itself comes from provider.accounts.login.finish_login, as for the JSON API; here
are only the browser's parts: the session cookie, and where the browser goes next (back into
the authorization flow, to a local `next` path, or a "signed in" page).
"""

from __future__ import annotations

from dataclasses import dataclass

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.login import CompletedLogin, SessionStart
from provider.accounts.second_factor import start_mfa_challenge
from provider.crypto.tokens import new_token, token_hash
from provider.http.context import caller_of, services_of
from provider.http.cookies import (
    MFA_COOKIE,
    SESSION_COOKIE,
    browser_session,
    clear_cookie,
    cookie_name,
    set_cookie,
)
from provider.http.csrf import verify_csrf
from provider.http.params import form_params
from provider.http.render import error_page, page
from provider.oauth.flows import Flow, load_flow, save_flow
from provider.storage.models import Session, User
from provider.web.common import EXPIRED, local_path, page_url, resume_url


@dataclass(frozen=True, slots=True)
class PostedSignIn:
    """A sign-in form posted to /login or /login/passkey: its fields, the authorization flow it
    belongs to (None outside one) and, outside one, the local path to go to afterwards."""

    form: dict[str, str]
    flow: Flow | None
    next_path: str | None


async def posted_sign_in(request: Request) -> PostedSignIn | HTTPResponse:
    """The posted sign-in form once its CSRF token is checked, or the page saying its flow
    expired."""
    services = services_of(request)
    form = form_params(request)
    verify_csrf(request, services.settings, form.get("csrf"))
    flow = await load_flow(services.cache, form.get("flow")) if "flow" in form else None
    if flow is None and "flow" in form:
        return await error_page(request, EXPIRED)
    return PostedSignIn(form, flow, local_path(form.get("next")) if flow is None else None)


@dataclass(frozen=True, slots=True)
class BrowserSignIn:
    """A sign-in of this browser about to complete: its live session (`current`, kept when the
    same user signs in again) and the new cookie the session gets, stored only as its hash."""

    current: Session | None
    cookie: str

    def session_start(self, flow: Flow | None) -> SessionStart:
        """The browser's session (no refresh token), for the flow's client if there is one."""
        return SessionStart(
            client_id=flow.request.client_id if flow else None,
            issue_refresh=False,
            cookie_hash=token_hash(self.cookie),
            current=self.current,
        )


async def browser_sign_in(request: Request) -> BrowserSignIn:
    current = await browser_session(request, services_of(request).settings)
    return BrowserSignIn(current, new_token())


async def after_sign_in(
    request: Request,
    completed: CompletedLogin,
    browser: BrowserSignIn,
    *,
    flow: Flow | None,
    next_path: str | None,
) -> HTTPResponse:
    """On to the flow, `next` or the signed-in page, with the session's new cookie (new on
    every sign-in, also when the browser's session was only authenticated again).

    The one place of the browser's bookkeeping after a sign-in, with a password or with the
    second factor: the completed sign-in also ends a pending one (the MFA cookie) if any.
    """
    services = services_of(request)
    settings = services.settings
    if flow is not None:
        # The flow remembers that its user signed in now: prompt=login and max_age are met.
        flow.login_session_id = str(completed.session.id)
        await save_flow(services.cache, flow)
        response = redirect(resume_url(flow.id), status=303)
    elif next_path:
        response = redirect(next_path, status=303)
    else:
        user = completed.user
        response = await page(request, "signed_in.html", {"user_name": user.name or user.email})
    set_cookie(
        response, settings, SESSION_COOKIE, browser.cookie, max_age=settings.session_absolute_ttl
    )
    if cookie_name(settings, MFA_COOKIE) in request.cookies:
        clear_cookie(response, settings, MFA_COOKIE)
    return response


async def ask_for_second_factor(
    request: Request, user: User, *, flow: Flow | None, next_path: str | None
) -> HTTPResponse:
    """A step-up of `user`'s browser session: a new MFA challenge, then the code page."""
    challenge = await start_mfa_challenge(services_of(request), caller_of(request), user)
    return to_second_factor(request, challenge, flow=flow, next_path=next_path)


def to_second_factor(
    request: Request, challenge: str, *, flow: Flow | None, next_path: str | None
) -> HTTPResponse:
    """A pending sign-in (its MFA `challenge` in an HttpOnly cookie), then the code page.

    The challenge token is single-use, expires with `mfa_token_ttl` and is bound to this
    browser's address and User-Agent (provider.accounts.second_factor.start_mfa_challenge).
    """
    settings = services_of(request).settings
    target = page_url("/login/mfa", flow=flow.id if flow else None, next=next_path)
    response = redirect(target, status=303)
    set_cookie(response, settings, MFA_COOKIE, challenge, max_age=settings.mfa_token_ttl)
    return response
