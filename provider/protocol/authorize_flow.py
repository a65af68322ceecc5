"""The steps after a valid authorization request, as pages and redirects.

The authorize endpoint and every hosted page of the flow (login, second factor, consent) come
back to `proceed`: it gathers the facts (client, browser session, id_token_hint, stored consent),
asks `oauth.next_step.next_authorization_step` what comes next, and renders that step.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.sign_in_methods import has_second_factor
from provider.context import Services
from provider.crypto.tokens import new_token, token_hash
from provider.http.cookies import browser_session
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.oauth.clients import find_client
from provider.oauth.flows import Flow, end_flow
from provider.oauth.id_token import read_id_token_hint
from provider.oauth.next_step import (
    ClientRules,
    Consent,
    Login,
    Refuse,
    SecondFactor,
    SignedIn,
    VerifyEmail,
    needs_stored_consent,
    next_authorization_step,
)
from provider.protocol.authorization_response import respond, respond_error
from provider.storage.codes import CodeStore, NewCode
from provider.storage.consents import Consents
from provider.storage.db import default_connection
from provider.storage.models import Client, Session
from provider.storage.unit_of_work import utcnow
from provider.web.common import page_url, resume_url
from provider.web.signin import ask_for_second_factor

CODE_TTL = 60


def _rules(client: Client) -> ClientRules:
    return ClientRules(
        first_party=client.first_party,
        require_verified_email=client.require_verified_email,
        require_mfa=client.require_mfa,
    )


def _signed_in(session: Session | None) -> SignedIn | None:
    if session is None:
        return None
    return SignedIn(
        session_id=str(session.id),
        user_id=str(session.user_id),
        auth_time=session.auth_time,
        amr=list(session.amr),
        email_verified=session.user.email_verified_at is not None,
    )


def _hint_subject(services: Services, flow: Flow, signed_in: SignedIn | None) -> str | None:
    """The subject of a valid id_token_hint, read only when a signed-in browser makes it matter."""
    hint = flow.request.id_token_hint
    if not hint or signed_in is None or flow.login_session_id == signed_in.session_id:
        return None
    claims = read_id_token_hint(services.keystore, hint, services.settings.issuer)
    return None if claims is None else str(claims["sub"])


async def _consented_scopes(
    flow: Flow, rules: ClientRules, signed_in: SignedIn | None
) -> list[str] | None:
    if signed_in is None or not needs_stored_consent(flow, rules, signed_in):
        return None
    return await Consents(default_connection()).scopes_for(
        signed_in.user_id, flow.request.client_id
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
        flow=flow,
        session=session,
    )


async def _ask_for_mfa(
    request: Request, flow: Flow, client: Client, session: Session
) -> HTTPResponse:
    """Step up with the second factor (a code or a passkey), or, without one, a page that
    explains how to enrol."""
    if await has_second_factor(session.user):
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
        flow=flow,
        session=session,
    )


async def proceed(request: Request, services: Services, flow: Flow) -> HTTPResponse:
    auth = flow.request
    client = await find_client(auth.client_id)
    if client is None:
        return await error_page(request, N_("This application is no longer available."))
    session = await browser_session(request, services.settings)
    rules, signed_in = _rules(client), _signed_in(session)
    step = next_authorization_step(
        flow,
        rules,
        signed_in,
        now=utcnow(),
        hint_subject=_hint_subject(services, flow, signed_in),
        consented_scopes=await _consented_scopes(flow, rules, signed_in),
    )
    if isinstance(step, Refuse):
        await end_flow(services.cache, flow)
        return await respond_error(
            request, auth, services.settings.issuer, step.error, step.description
        )
    if isinstance(step, Login) or session is None:
        return redirect(f"/login?flow={flow.id}", status=303)
    if isinstance(step, VerifyEmail):
        return await _ask_to_verify_email(request, flow, client, session)
    if isinstance(step, SecondFactor):
        return await _ask_for_mfa(request, flow, client, session)
    if isinstance(step, Consent):
        return redirect(f"/consent?flow={flow.id}", status=303)
    code = await _issue_code(flow, session)
    await end_flow(services.cache, flow)
    return await respond(request, auth, services.settings.issuer, {"code": code})


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
        resources=tuple(auth.resources),
    )
    await CodeStore(default_connection()).save(token_hash(code), bound, now=utcnow(), ttl=CODE_TTL)
    return code
