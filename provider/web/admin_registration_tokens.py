"""/admin/registration-tokens: initial access tokens for dynamic client registration on the
hosted admin pages, through the use cases the admin API and the CLI call
(`provider.oauth.initial_access_tokens`). Admins and auditors see them; admins mint and revoke.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.roles import ADMIN, READERS
from provider.domain_errors import InvalidRequest
from provider.http.admin_views import initial_access_token_view
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.params import form_params
from provider.i18n.catalogues import N_
from provider.oauth.initial_access_tokens import (
    MAX_NOTE_LENGTH,
    initial_access_tokens,
    mint_initial_access_token,
    revoke_initial_access_token,
)
from provider.storage.models import User
from provider.web.admin import guarded, render_admin

bp = Blueprint("web_admin_registration_tokens")
PAGE = "/admin/registration-tokens"


async def _page(
    request: Request,
    viewer: User,
    *,
    minted: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    settings = services_of(request).settings
    return await render_admin(
        request,
        "admin/registration_tokens.html",
        viewer,
        {
            "tokens": [initial_access_token_view(t) for t in await initial_access_tokens()],
            "minted": minted,
            "problem": problem,
            "notice": N_("Token revoked.") if request.args.get("done") == "revoked" else None,
            "registration_open": settings.registration_open,
            "default_ttl": settings.initial_access_token_ttl,
            "max_note": MAX_NOTE_LENGTH,
        },
        status=status,
    )


@bp.get(PAGE)
async def tokens(request: Request) -> HTTPResponse:
    async def build(viewer: User) -> HTTPResponse:
        return await _page(request, viewer)

    return await guarded(request, READERS, build)


def _whole_number(value: str | None, refusal: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest(refusal)
    return int(value)


@bp.post(PAGE)
async def mint(request: Request) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        try:
            minted = await mint_initial_access_token(
                services.settings,
                services.events,
                caller_of(request),
                uses=_whole_number(form.get("uses"), N_("Uses must be a whole number.")) or 1,
                ttl=_whole_number(form.get("ttl"), N_("Seconds valid must be a whole number.")),
                note=form.get("note") or "",
                created_by=str(viewer.id),
            )
        except InvalidRequest as exc:
            return await _page(request, viewer, problem=exc.message, status=http_status(exc))
        # The token is shown on this answer only: it is stored as a hash.
        return await _page(request, viewer, minted=minted.token, status=201)

    return await guarded(request, ADMIN, build)


@bp.post(f"{PAGE}/<token_id:str>/revoke")
async def revoke(request: Request, token_id: str) -> HTTPResponse:
    services = services_of(request)

    async def build(viewer: User) -> HTTPResponse:
        form = form_params(request)
        verify_csrf(request, services.settings, form.get("csrf"))
        await revoke_initial_access_token(
            services.events, caller_of(request), token_id, by=str(viewer.id)
        )
        return redirect(f"{PAGE}?done=revoked", status=303)

    return await guarded(request, ADMIN, build)
