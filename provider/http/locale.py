"""The language of a page: chosen once per request and kept on it, never in a global."""

from __future__ import annotations

import logging
from enum import Enum
from typing import Final

from sanic import Request

from provider.context import Caller
from provider.http.context import caller_of, services_of
from provider.http.cookies import browser_session
from provider.i18n.catalogues import Translator, available, translator
from provider.i18n.negotiation import choose_locale
from provider.oauth.flows import Flow, load_flow
from provider.storage.models import Session

log = logging.getLogger("provider.pages")


class Unread(Enum):
    """Not read by the page's handler: choosing the page's language reads it itself."""

    UNREAD = "unread"


UNREAD: Final = Unread.UNREAD


def _flow_id(request: Request) -> str | None:
    """The authorization request a page belongs to: `?flow=` or the posted `flow` field."""
    flow_id: str | None = request.args.get("flow")
    form = request.content_type.startswith("application/x-www-form-urlencoded")
    if flow_id is None and request.method == "POST" and form:
        posted = request.get_form(keep_blank_values=True)
        flow_id = posted.get("flow") if posted is not None else None
    return flow_id


async def page_caller(request: Request) -> Caller:
    """The caller of a page that mails someone: its locale is the page's language, so the
    mail of a sign-up inside a `ui_locales=de` request is German too."""
    await page_translator(request)
    return caller_of(request)


async def page_translator(
    request: Request,
    *,
    flow: Flow | Unread | None = UNREAD,
    session: Session | Unread | None = UNREAD,
) -> Translator:
    """`ui_locales` of the authorization request this page is part of (so sign-in, second
    factor and consent of one request stay in its language), then the signed-in user's
    `locale`, then Accept-Language, then PROVIDER_DEFAULT_LOCALE.

    `flow` and `session` are what the page's handler has already read (the flow, the browser's
    live session; None: there is none), so they are not read again. A flow counts when the
    request names no flow (/authorize renders a step of the flow it has just made) or names this
    one (`?flow=` or the posted `flow`); otherwise the one it names is read."""
    cached: Translator | None = getattr(request.ctx, "translator", None)
    if cached is not None:
        return cached
    services = services_of(request)
    ui_locales = user_locale = None
    try:
        flow_id = _flow_id(request)
        if isinstance(flow, Unread) or (
            flow_id is not None and (flow.id if flow else None) != flow_id
        ):
            flow = await load_flow(services.cache, flow_id)
        if isinstance(session, Unread):
            session = await browser_session(request, services.settings)
        ui_locales = flow.request.ui_locales if flow else None
        user_locale = session.user.locale if session else None
    except Exception:
        log.warning("page language chosen without the flow and the session", exc_info=True)
    chosen = translator(
        choose_locale(
            available(),
            services.settings.default_locale,
            ui_locales=ui_locales,
            user_locale=user_locale,
            accept=request.headers.get("accept-language", "")[:512],
        )
    )
    request.ctx.translator = chosen
    return chosen
