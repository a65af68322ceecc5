"""What a handler needs from the request before it calls the core: the services and the caller."""

from __future__ import annotations

from sanic import Request

from provider.context import Caller, Services
from provider.i18n.catalogues import available
from provider.i18n.negotiation import choose_locale


def services_of(request: Request) -> Services:
    services: Services = request.app.ctx.services
    return services


def caller_of(request: Request) -> Caller:
    return Caller(
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:512],
        request_id=request.ctx.request_id,
        locale=request_locale(request),
    )


def request_locale(request: Request) -> str:
    """The page's language once chosen, else the browser's (Accept-Language) or the default."""
    chosen = getattr(request.ctx, "translator", None)
    if chosen is not None:
        return str(chosen.locale)
    return choose_locale(
        available(),
        services_of(request).settings.default_locale,
        accept=request.headers.get("accept-language", "")[:512],
    )


def client_ip(request: Request) -> str:
    """The forwarded client address only when TRUST_PROXY says proxies are in front."""
    if services_of(request).settings.trust_proxy and request.remote_addr:
        return request.remote_addr
    return request.ip
