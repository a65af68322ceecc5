"""GET|POST /login: the hosted sign-in page of an authorization flow.

Without a `flow`, it signs the browser in to the provider's own pages (`/login?next=/admin`) and
then goes to `next`, which must be a path on this site.
"""

from __future__ import annotations

import unicodedata

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.authentication import authenticate_password
from provider.accounts.mfa import mfa_enabled
from provider.api.common import caller_of, services_of
from provider.cache.ratelimit import Limit, enforce
from provider.context import Services
from provider.crypto.tokens import keyed_hash, new_token, token_hash
from provider.errors import ApiError
from provider.oauth.flows import Flow, load_flow, save_flow
from provider.oauth.params import form_params
from provider.ops.metrics import AUTH_OPERATIONS
from provider.sessions.service import revoke_session, start_session
from provider.storage.models import Client, Session, User
from provider.storage.unit_of_work import unit_of_work, utcnow
from provider.web.cookies import SESSION_COOKIE, browser_session, set_cookie
from provider.web.csrf import verify_csrf
from provider.web.render import error_page, page

bp = Blueprint("web_login")
EXPIRED = "This sign-in request has expired. Go back to the application and try again."
# OIDC Core §2 `acr` (acr_values asks for it as a voluntary claim, §3.1.2.1): a password is one
# factor, level 1 in the numeric convention of other OPs ("0" is below level 1, e.g. a cookie).
PASSWORD_ACR = "1"


def local_path(value: str | None) -> str | None:
    """`value` if it is a path on this site: "/x", never "//host", "/\\host" or control bytes."""
    if not value or len(value) > 512 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        return None
    return value


async def _login_page(
    request: Request,
    flow: Flow | None,
    *,
    identifier: str = "",
    error: str | None = None,
    status: int = 200,
    next_path: str | None = None,
) -> HTTPResponse:
    client = await Client.get_or_none(id=flow.request.client_id) if flow else None
    return await page(
        request,
        "login.html",
        {
            "flow": flow.id if flow else None,
            "next": next_path,
            "client_name": client.name if client else None,
            "identifier": identifier or (flow.request.login_hint if flow else None) or "",
            "error": error,
            "register_url": None,
            "forgot_url": None,
        },
        status=status,
        # CSP form-action also governs the redirects after the POST, up to the client.
        form_targets=[flow.request.redirect_uri] if flow else None,
    )


@bp.get("/login")
async def show_login(request: Request) -> HTTPResponse:
    flow_id = request.args.get("flow")
    if flow_id is None:
        return await _login_page(request, None, next_path=local_path(request.args.get("next")))
    flow = await load_flow(services_of(request).cache, flow_id)
    if flow is None:
        return await error_page(request, EXPIRED)
    return await _login_page(request, flow)


@bp.post("/login")
async def submit_login(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    form = form_params(request)
    verify_csrf(request, settings, form.get("csrf"))
    flow = await load_flow(services.cache, form.get("flow")) if "flow" in form else None
    if flow is None and "flow" in form:
        return await error_page(request, EXPIRED)
    next_path = local_path(form.get("next")) if flow is None else None
    identifier = (form.get("identifier") or "")[:254]
    password = (form.get("password") or "")[:256]
    if not identifier or not password:
        return await _login_page(
            request,
            flow,
            identifier=identifier,
            error="Enter your email or username and password.",
            status=400,
            next_path=next_path,
        )
    try:
        user = await _authenticate(request, services, identifier, password)
    except ApiError as exc:
        return await _login_page(
            request,
            flow,
            identifier=identifier,
            error=exc.message,
            status=exc.status,
            next_path=next_path,
        )
    if flow is None:
        return await _sign_in_without_flow(request, services, user, identifier, next_path)
    response = redirect(f"/authorize/resume?flow={flow.id}", status=303)
    session = await _sign_in(request, services, user, flow.request.client_id, response)
    flow.login_session_id = str(session.id)
    await save_flow(services.cache, flow)
    AUTH_OPERATIONS.labels(operation="login", outcome="success").inc()
    return response


async def _sign_in_without_flow(
    request: Request, services: Services, user: User, identifier: str, next_path: str | None
) -> HTTPResponse:
    """The same session and cookie as in a flow, then on to `next` (a local path)."""
    if mfa_enabled(user):
        # This page has no second-factor step: never let a password alone through.
        return await _login_page(
            request,
            None,
            identifier=identifier,
            error="This account uses two-factor authentication; sign in through an application.",
            status=403,
            next_path=next_path,
        )
    response = (
        redirect(next_path, status=303)
        if next_path
        else await page(request, "signed_in.html", {"user_name": user.name or user.email})
    )
    await _sign_in(request, services, user, None, response)
    AUTH_OPERATIONS.labels(operation="login", outcome="success").inc()
    return response


async def _authenticate(
    request: Request, services: Services, identifier: str, password: str
) -> User:
    """The same limits, lockout and audit as the JSON API's login."""
    settings = services.settings
    caller = caller_of(request)
    window = settings.ratelimit_window
    await enforce(
        services.cache, Limit("login_ip", settings.ratelimit_login_per_ip, window), caller.ip
    )
    account_key = keyed_hash(settings.secret, unicodedata.normalize("NFKC", identifier).lower())
    await enforce(
        services.cache,
        Limit("login_account", settings.ratelimit_login_per_account, window),
        account_key,
    )
    return await authenticate_password(services, caller, identifier, password)


async def _sign_in(
    request: Request,
    services: Services,
    user: User,
    client_id: str | None,
    response: HTTPResponse,
) -> Session:
    """Re-authenticate the browser's session of the same user, or start a new one."""
    settings = services.settings
    current = await browser_session(request, settings)
    async with unit_of_work(caller_of(request), services.events) as work:
        if current is not None and current.user_id == user.id:
            now = utcnow()
            await (
                Session.filter(id=current.id)
                .using_db(work.conn)
                .update(auth_time=now, last_active_at=now, amr=["pwd"], acr=PASSWORD_ACR)
            )
            session = current
        else:
            if current is not None:
                await revoke_session(work, current.id, current.user_id, reason="switched_account")
            cookie = new_token()
            session = await start_session(
                work,
                settings,
                user,
                amr=["pwd"],
                acr=PASSWORD_ACR,
                client_id=client_id,
                cookie_hash=token_hash(cookie),
            )
            set_cookie(
                response, settings, SESSION_COOKIE, cookie, max_age=settings.session_absolute_ttl
            )
        await work.audit(
            "user.login",
            user_id=user.id,
            session_id=session.id,
            client_id=client_id,
            details={"amr": ["pwd"]},
        )
    return session
