"""GET|POST /consent: the user allows or denies a client the scopes it asked for."""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.cookies import browser_session
from provider.http.csrf import verify_csrf
from provider.http.params import form_params
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.oauth.clients import METADATA_DOCUMENT, find_client, is_self_registered
from provider.oauth.consent import answer_consent
from provider.oauth.flows import load_flow
from provider.oauth.resources import describe_scopes
from provider.protocol.authorization_response import respond_error
from provider.web.common import EXPIRED

bp = Blueprint("web_consent")


@bp.get("/consent")
async def show_consent(request: Request) -> HTTPResponse:
    services = services_of(request)
    flow = await load_flow(services.cache, request.args.get("flow"))
    if flow is None:
        return await error_page(request, EXPIRED)
    session = await browser_session(request, services.settings)
    client = await find_client(flow.request.client_id, include_disabled=True)
    if session is None or client is None:
        return redirect(f"/authorize/resume?flow={flow.id}", status=303)
    return await page(
        request,
        "consent.html",
        {
            "flow": flow.id,
            "client_name": client.name,
            # Registered by the client itself: say so, and for a metadata document, where from.
            "unverified_by": (services.settings.org_label if is_self_registered(client) else None),
            "client_host": (
                urlsplit(client.id).hostname if client.registration == METADATA_DOCUMENT else None
            ),
            "client_logo": client.logo_uri,
            "user_name": session.user.name or session.user.email,
            "scopes": await describe_scopes(flow.request.scopes, flow.request.resources),
        },
        form_targets=[flow.request.redirect_uri],
        images=[client.logo_uri] if client.logo_uri else None,
        flow=flow,
        session=session,
    )


@bp.post("/consent")
async def submit_consent(request: Request) -> HTTPResponse:
    services = services_of(request)
    form = form_params(request)
    verify_csrf(request, services.settings, form.get("csrf"))
    flow = await load_flow(services.cache, form.get("flow"))
    if flow is None:
        return await error_page(request, EXPIRED)
    session = await browser_session(request, services.settings)
    if session is None:
        return redirect(f"/authorize/resume?flow={flow.id}", status=303)
    allowed = form.get("decision") == "allow"
    await answer_consent(services, caller_of(request), flow, session, allowed=allowed)
    if not allowed:
        return await respond_error(
            request,
            flow.request,
            services.settings.issuer,
            "access_denied",
            N_("The user denied access."),
        )
    return redirect(f"/authorize/resume?flow={flow.id}", status=303)
