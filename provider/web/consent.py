"""GET|POST /consent: the user allows or denies a client the scopes it asked for."""

from __future__ import annotations

import uuid

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from tortoise.backends.base.client import BaseDBAsyncClient

from provider.api.common import caller_of, services_of
from provider.oauth.authorization_response import respond_error
from provider.oauth.flows import end_flow, load_flow, save_flow
from provider.oauth.params import form_params
from provider.oauth.scopes import describe
from provider.storage.models import Client, Consent
from provider.storage.unit_of_work import unit_of_work, utcnow
from provider.web.common import EXPIRED
from provider.web.cookies import browser_session
from provider.web.csrf import verify_csrf
from provider.web.render import error_page, page

bp = Blueprint("web_consent")


@bp.get("/consent")
async def show_consent(request: Request) -> HTTPResponse:
    services = services_of(request)
    flow = await load_flow(services.cache, request.args.get("flow"))
    if flow is None:
        return await error_page(request, EXPIRED)
    session = await browser_session(request, services.settings)
    client = await Client.get_or_none(id=flow.request.client_id)
    if session is None or client is None:
        return redirect(f"/authorize/resume?flow={flow.id}", status=303)
    return await page(
        request,
        "consent.html",
        {
            "flow": flow.id,
            "client_name": client.name,
            "user_name": session.user.name or session.user.email,
            "scopes": describe(flow.request.scopes),
        },
        form_targets=[flow.request.redirect_uri],
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
    auth = flow.request
    async with unit_of_work(caller_of(request), services.events) as work:
        if form.get("decision") != "allow":
            await work.audit(
                "consent.denied",
                outcome="failure",
                user_id=session.user_id,
                session_id=session.id,
                client_id=auth.client_id,
            )
        else:
            await _remember(work.conn, session.user_id, auth.client_id, auth.scopes)
            await work.audit(
                "consent.granted",
                user_id=session.user_id,
                session_id=session.id,
                client_id=auth.client_id,
                details={"scopes": auth.scopes},
            )
    if form.get("decision") != "allow":
        await end_flow(services.cache, flow)
        return await respond_error(
            request, auth, services.settings.issuer, "access_denied", "The user denied access."
        )
    flow.consented_session_id = str(session.id)
    await save_flow(services.cache, flow)
    return redirect(f"/authorize/resume?flow={flow.id}", status=303)


async def _remember(
    conn: BaseDBAsyncClient, user_id: object, client_id: str, scopes: list[str]
) -> None:
    """Remember the grant, adding to what the user allowed this client before."""
    now = utcnow()
    consent = await Consent.get_or_none(user_id=user_id, client_id=client_id, using_db=conn)
    if consent is None:
        await Consent.create(
            id=uuid.uuid4(),
            user_id=user_id,
            client_id=client_id,
            scopes=scopes,
            created_at=now,
            updated_at=now,
            using_db=conn,
        )
        return
    consent.scopes = sorted(set(consent.scopes) | set(scopes))
    consent.updated_at = now
    await consent.save(using_db=conn)
