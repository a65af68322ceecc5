"""GET|POST /logout (OpenID Connect RP-Initiated Logout 1.0)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import SESSION_COOKIE, browser_session, clear_cookie
from provider.http.csrf import verify_csrf
from provider.http.errors import OAuthError
from provider.http.params import form_params, query_params
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.oauth.clients import find_client
from provider.oauth.id_token import read_id_token_hint
from provider.sessions.sign_out import sign_out
from provider.storage.models import Client

bp = Blueprint("logout")
CARRIED = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


class LogoutRefused(Exception):
    pass


async def _client_and_target(
    request: Request, params: dict[str, str]
) -> tuple[Client | None, str | None]:
    """The client named by id_token_hint or client_id, and a registered redirect target."""
    services = services_of(request)
    client_id = params.get("client_id")
    if "id_token_hint" in params:
        hint = read_id_token_hint(
            services.keystore, params["id_token_hint"], services.settings.issuer
        )
        if hint is None:
            raise LogoutRefused(N_("The sign-out request carries an ID token we did not issue."))
        audience = hint.get("aud")
        hinted = audience if isinstance(audience, str) else (audience or [None])[0]
        if client_id and client_id != hinted:
            raise LogoutRefused(N_("The sign-out request names two different applications."))
        client_id = hinted
    client = await find_client(client_id, include_disabled=True)
    target = params.get("post_logout_redirect_uri")
    # RP-Initiated Logout §3: redirect only to a URI registered for that very client.
    if target is not None and (client is None or target not in client.post_logout_redirect_uris):
        raise LogoutRefused(N_("The address to return to after sign-out is not registered."))
    return client, target


def _back_to_client(target: str, state: str | None) -> HTTPResponse:
    location = target
    if state is not None:
        separator = "&" if urlsplit(target).query else "?"
        location = f"{target}{separator}{urlencode({'state': state})}"
    return redirect(location, status=303)


async def logout(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    try:
        params = form_params(request) if request.method == "POST" else query_params(request)
        client, target = await _client_and_target(request, params)
    except (OAuthError, LogoutRefused) as exc:
        return await error_page(request, str(exc))
    session = await browser_session(request, settings)
    decision = params.get("decision") if request.method == "POST" else None
    if session is not None and decision is None:
        return await page(
            request,
            "logout_confirm.html",
            {
                "client_name": client.name if client else None,
                "fields": {name: params[name] for name in CARRIED if name in params},
            },
            form_targets=[target] if target else None,
            session=session,
        )
    if decision is not None:
        verify_csrf(request, settings, params.get("csrf"))
    if decision == "stay":
        return await page(
            request,
            "logged_out.html",
            {"title": N_("Still signed in"), "message": N_("You are still signed in.")},
            session=session,
        )
    if session is not None:
        await sign_out(
            services,
            caller_of(request),
            user_id=session.user_id,
            session_id=session.id,
            client_id=client.id if client else None,
        )
    response = (
        _back_to_client(target, params.get("state"))
        if target
        else await page(
            request,
            "logged_out.html",
            {"title": N_("Signed out"), "message": N_("You have been signed out.")},
        )
    )
    clear_cookie(response, settings, SESSION_COOKIE)
    return response


# OIDC Core §3.1.2.1 / §5.3.1: both GET and POST are served.
bp.add_route(logout, "/logout", methods=["GET", "POST"])
