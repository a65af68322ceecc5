"""Signing in with an upstream provider on the hosted pages, and linking one to an account.

GET  /login/idp/<slug>            off to the provider ("Continue with …" on /login, /register)
GET  /login/idp/<slug>/callback   back from it: the use cases of provider.federation.linking
GET|POST /login/idp/link          the password that confirms a link to an existing account
GET  /account/idp/<slug>/link     a signed-in user links a provider (then the same callback)
POST /account/idp/<slug>/unlink   … or removes the link

The browser carries a random value in the `idp` cookie from the start to the callback (and the
link confirmation): the state only counts in the browser that started the sign-in. What follows
a sign-in is what follows a password: provider.web.signin (cookie, back into the flow), or the
second factor first.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.crypto.tokens import new_token, token_hash
from provider.domain_errors import DomainError, ReauthenticationRequired
from provider.federation.errors import InvalidCallback, UpstreamUnavailable
from provider.federation.linking import (
    BrowserLogin,
    ConfirmLink,
    Outcome,
    SecondFactorNeeded,
    Verified,
    confirm_link,
    link_to_account,
    pending_link,
    sign_in_upstream,
    start_sign_in,
    unlink,
    verify_callback,
)
from provider.federation.pending import SIGN_IN_TTL
from provider.federation.providers import offered_providers, redirect_uri
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import browser_session, clear_cookie, cookie_name, set_cookie
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.params import form_params
from provider.http.render import page
from provider.i18n.catalogues import N_
from provider.oauth.flows import Flow, load_flow
from provider.storage.models import Session
from provider.web.common import (
    EXPIRED,
    page_url,
    return_to_from_query,
    signed_in_or_redirect,
    with_headers,
)
from provider.web.signin import BrowserSignIn, after_sign_in, to_second_factor

bp = Blueprint("web_federation")

BROWSER_COOKIE = "idp"
# Statuses of the failures whose table row would say less (provider.http.errors maps the rest).
STATUS: dict[type[DomainError], int] = {UpstreamUnavailable: 502}
LINK_EXPIRED = N_("This link request has expired. Start again from the sign-in page.")


async def upstream_buttons(flow_id: str | None, next_path: str | None) -> list[dict[str, str]]:
    """A "Continue with …" link per offered provider, carrying the flow or `next`."""
    return [
        {
            "slug": offered.slug,
            "name": offered.name,
            "url": page_url(f"/login/idp/{offered.slug}", flow=flow_id, next=next_path),
        }
        for offered in await offered_providers()
    ]


def _redirect_uri(request: Request, slug: str) -> str:
    return redirect_uri(services_of(request).settings.issuer, slug)


def _status(error: DomainError) -> int:
    return STATUS.get(type(error)) or http_status(error)


def login_url(flow_id: str | None = None, next_path: str | None = None) -> str:
    return page_url("/login", flow=flow_id, next=next_path)


async def failure_page(request: Request, error: DomainError, back_url: str) -> HTTPResponse:
    """What went wrong, and the way back (the sign-in page of the same flow, most often)."""
    response = await page(
        request,
        "idp_error.html",
        {"message": error.message, "back_url": back_url},
        status=_status(error),
    )
    return with_headers(response, error)


@bp.get("/login/idp/<slug:str>")
async def start(request: Request, slug: str) -> HTTPResponse:
    back = return_to_from_query(request)
    return await _start(request, slug, back["flow"], back["next"], link_session=None)


async def _start(
    request: Request,
    slug: str,
    flow_id: str | None,
    next_path: str | None,
    *,
    link_session: Session | None,
) -> HTTPResponse:
    services = services_of(request)
    browser = new_token()
    try:
        url = await start_sign_in(
            services,
            caller_of(request),
            slug,
            _redirect_uri(request, slug),
            browser=browser,
            flow_id=flow_id,
            next_path=next_path,
            link_session=link_session,
        )
    except ReauthenticationRequired:
        return _confirm_identity(request.path)
    except DomainError as exc:
        return await failure_page(request, exc, login_url(flow_id, next_path))
    response = redirect(url, status=303)
    set_cookie(response, services.settings, BROWSER_COOKIE, browser, max_age=SIGN_IN_TTL)
    return response


def _browser(request: Request) -> str | None:
    value = request.cookies.get(cookie_name(services_of(request).settings, BROWSER_COOKIE))
    return value if value and len(value) <= 128 else None


@bp.get("/login/idp/<slug:str>/callback")
async def callback(request: Request, slug: str) -> HTTPResponse:
    services, caller = services_of(request), caller_of(request)
    params = {name: request.args.get(name) or "" for name in ("state", "code", "error")}
    if not params["error"]:
        del params["error"]
    try:
        verified = await verify_callback(
            services,
            caller,
            slug,
            params=params,
            browser=_browser(request),
            redirect_uri=_redirect_uri(request, slug),
        )
    except DomainError as exc:
        return await failure_page(request, exc, login_url())
    pending = verified.pending
    if pending.link_user_id is not None:
        return await _finish_link(request, verified)
    flow = await load_flow(services.cache, pending.flow_id) if pending.flow_id else None
    if pending.flow_id and flow is None:
        return await failure_page(request, InvalidCallback(EXPIRED), login_url())
    cookie = new_token()
    login = await _browser_login(request, flow, cookie)
    try:
        outcome = await sign_in_upstream(services, caller, verified, login)
    except DomainError as exc:
        return await failure_page(request, exc, login_url(pending.flow_id, pending.next_path))
    return await _continue(request, outcome, cookie, flow=flow, next_path=pending.next_path)


async def _browser_login(request: Request, flow: Flow | None, cookie: str) -> BrowserLogin:
    return BrowserLogin(
        client_id=flow.request.client_id if flow else None,
        cookie_hash=token_hash(cookie),
        current=await browser_session(request, services_of(request).settings),
    )


async def _continue(
    request: Request, outcome: Outcome, cookie: str, *, flow: Flow | None, next_path: str | None
) -> HTTPResponse:
    if isinstance(outcome, ConfirmLink):
        return redirect(page_url("/login/idp/link", token=outcome.token), status=303)
    if isinstance(outcome, SecondFactorNeeded):
        return to_second_factor(request, outcome.challenge, flow=flow, next_path=next_path)
    browser = BrowserSignIn(current=None, cookie=cookie)
    response = await after_sign_in(request, outcome.login, browser, flow=flow, next_path=next_path)
    clear_cookie(response, services_of(request).settings, BROWSER_COOKIE)
    return response


async def _finish_link(request: Request, verified: Verified) -> HTTPResponse:
    """The callback of a link started on the account page, in the same user's session."""
    services = services_of(request)
    session = await browser_session(request, services.settings)
    if session is None or str(session.user_id) != verified.pending.link_user_id:
        return redirect(page_url("/login", next="/account"), status=303)
    try:
        await link_to_account(services, caller_of(request), verified, session.user)
    except DomainError as exc:
        return await failure_page(request, exc, "/account")
    response = redirect("/account?done=linked", status=303)
    clear_cookie(response, services.settings, BROWSER_COOKIE)
    return response


def _confirm_identity(next_path: str) -> HTTPResponse:
    """The sign-in is too old to change the ways in: sign in again, then come back."""
    return redirect(page_url("/login", next=next_path, reauth="1"), status=303)


async def _link_page(
    request: Request, token: str, *, error: str | None = None, status: int = 200
) -> HTTPResponse:
    link = await pending_link(services_of(request), token, _browser(request))
    if link is None:
        return await failure_page(request, InvalidCallback(LINK_EXPIRED), login_url())
    return await page(
        request,
        "idp_link.html",
        {
            "token": token,
            "email": link.email,
            "provider": link.provider_name,
            "error": error,
            "forgot_url": page_url("/password/forgot", flow=link.flow_id, next=link.next_path),
        },
        status=status,
    )


@bp.get("/login/idp/link")
async def link_form(request: Request) -> HTTPResponse:
    return await _link_page(request, request.args.get("token") or "")


@bp.post("/login/idp/link")
async def submit_link(request: Request) -> HTTPResponse:
    services = services_of(request)
    form = form_params(request)
    verify_csrf(request, services.settings, form.get("csrf"))
    token = form.get("token") or ""
    link = await pending_link(services, token, _browser(request))
    if link is None:
        return await _link_page(request, token)
    flow = await load_flow(services.cache, link.flow_id) if link.flow_id else None
    if link.flow_id and flow is None:
        return await failure_page(request, InvalidCallback(EXPIRED), login_url())
    cookie = new_token()
    try:
        outcome = await confirm_link(
            services,
            caller_of(request),
            token,
            _browser(request),
            (form.get("password") or "")[:256],
            await _browser_login(request, flow, cookie),
        )
    except DomainError as exc:
        response = await _link_page(request, token, error=exc.message, status=http_status(exc))
        return with_headers(response, exc)
    return await _continue(request, outcome, cookie, flow=flow, next_path=link.next_path)


@bp.get("/account/idp/<slug:str>/link")
async def start_link(request: Request, slug: str) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    return await _start(request, slug, None, "/account", link_session=found)


@bp.post("/account/idp/<slug:str>/unlink")
async def remove_link(request: Request, slug: str) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    verify_csrf(request, services_of(request).settings, form_params(request).get("csrf"))
    try:
        await unlink(services_of(request), caller_of(request), found, slug)
    except ReauthenticationRequired:
        return _confirm_identity("/account")
    except DomainError as exc:
        return await failure_page(request, exc, "/account")
    return redirect("/account?done=unlinked", status=303)
