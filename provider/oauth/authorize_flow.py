"""The steps after a valid authorization request: sign in, the client's requirements, consent,
then issue the code.

The authorize endpoint and every hosted page of the flow (login, second factor, consent) come
back to `proceed`, which decides the next step from the flow state and the browser session, so
no step is written twice.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.login import ACR_MFA
from provider.accounts.mfa import mfa_enabled
from provider.context import Services
from provider.crypto.tokens import new_token, token_hash
from provider.oauth.authorization_response import respond, respond_error
from provider.oauth.flows import Flow, end_flow
from provider.oauth.id_token import read_id_token_hint
from provider.storage.codes import CodeStore, NewCode
from provider.storage.db import default_connection
from provider.storage.models import Client, Consent, Session
from provider.storage.unit_of_work import utcnow
from provider.web.common import page_url, resume_url
from provider.web.cookies import browser_session
from provider.web.render import error_page, page
from provider.web.signin import ask_for_second_factor

CODE_TTL = 60


def _needs_login(flow: Flow, session: Session | None, services: Services) -> bool:
    auth = flow.request
    if session is None:
        return True
    if flow.login_session_id == str(session.id):
        return False  # signed in during this very flow: prompt=login and max_age are met
    if "login" in auth.prompt or "select_account" in auth.prompt:
        return True
    # OIDC Core §3.1.2.1: re-authenticate when the last one is older than max_age.
    if auth.max_age is not None and (utcnow() - session.auth_time).total_seconds() > auth.max_age:
        return True
    if auth.id_token_hint:
        hint = read_id_token_hint(services.keystore, auth.id_token_hint, services.settings.issuer)
        if hint is not None and hint["sub"] != str(session.user_id):
            return True
    return False


async def _needs_consent(flow: Flow, client: Client, session: Session) -> bool:
    if client.first_party or flow.consented_session_id == str(session.id):
        return False
    if "consent" in flow.request.prompt:
        return True
    stored = await Consent.get_or_none(user_id=session.user_id, client_id=client.id)
    return stored is None or not set(flow.request.scopes) <= set(stored.scopes)


def _needs_verified_email(client: Client, session: Session) -> bool:
    return client.require_verified_email and session.user.email_verified_at is None


def _needs_mfa(flow: Flow, client: Client, session: Session) -> bool:
    """The client, or the request's acr_values, asks for two factors; the session has only one.

    acr_values is a voluntary request (OIDC Core §3.1.2.1, §5.5.1.1); the one value we define,
    urn:provider:acr:mfa, is honoured as a requirement so the ID token's acr never claims less.
    """
    wanted = client.require_mfa or ACR_MFA in flow.request.acr_values
    return wanted and "mfa" not in session.amr


async def _interaction_required(
    request: Request, services: Services, flow: Flow, description: str
) -> HTTPResponse:
    """prompt=none cannot show the page that is needed (OIDC Core §3.1.2.6)."""
    await end_flow(services.cache, flow)
    return await respond_error(
        request, flow.request, services.settings.issuer, "interaction_required", description
    )


async def _ask_to_verify_email(
    request: Request, flow: Flow, client: Client, session: Session
) -> HTTPResponse:
    """An explanation, a button to mail the link again, and the way back into this flow."""
    return await page(
        request,
        "verify_required.html",
        {
            "client_name": client.name,
            "email": session.user.email,
            "continue_url": resume_url(flow.id),
        },
        status=403,
    )


async def _ask_for_mfa(
    request: Request, flow: Flow, client: Client, session: Session
) -> HTTPResponse:
    """Step up with the second factor, or, without one, a page that explains how to enrol."""
    if mfa_enabled(session.user):
        return await ask_for_second_factor(request, session.user, flow=flow, next_path=None)
    return await page(
        request,
        "mfa_required.html",
        {
            "client_name": client.name,
            "enrol_url": page_url("/account/mfa", next=resume_url(flow.id)),
            "continue_url": resume_url(flow.id),
        },
        status=403,
    )


async def proceed(request: Request, services: Services, flow: Flow) -> HTTPResponse:
    auth = flow.request
    issuer = services.settings.issuer
    client = await Client.get_or_none(id=auth.client_id)
    if client is None or client.disabled:
        return await error_page(request, "This application is no longer available.")
    session = await browser_session(request, services.settings)
    if _needs_login(flow, session, services):
        if "none" in auth.prompt:
            await end_flow(services.cache, flow)
            return await respond_error(
                request, auth, issuer, "login_required", "The user is not signed in."
            )
        return redirect(f"/login?flow={flow.id}", status=303)
    assert session is not None
    if _needs_verified_email(client, session):
        if "none" in auth.prompt:
            return await _interaction_required(
                request, services, flow, "The user's email address is not verified."
            )
        return await _ask_to_verify_email(request, flow, client, session)
    if _needs_mfa(flow, client, session):
        if "none" in auth.prompt:
            return await _interaction_required(
                request, services, flow, "Two-factor authentication is required."
            )
        return await _ask_for_mfa(request, flow, client, session)
    if await _needs_consent(flow, client, session):
        if "none" in auth.prompt:
            await end_flow(services.cache, flow)
            return await respond_error(
                request, auth, issuer, "consent_required", "The user has not consented."
            )
        return redirect(f"/consent?flow={flow.id}", status=303)
    code = await _issue_code(flow, session)
    await end_flow(services.cache, flow)
    return await respond(request, auth, issuer, {"code": code})


async def _issue_code(flow: Flow, session: Session) -> str:
    auth = flow.request
    code = new_token()
    bound = NewCode(
        client_id=auth.client_id,
        user_id=session.user_id,
        session_id=session.id,
        redirect_uri=auth.redirect_uri,
        scope=" ".join(auth.scopes),
        nonce=auth.nonce,
        code_challenge=auth.code_challenge,
        auth_time=session.auth_time,
        amr=list(session.amr),
        acr=session.acr,
    )
    await CodeStore(default_connection()).save(token_hash(code), bound, now=utcnow(), ttl=CODE_TTL)
    return code
