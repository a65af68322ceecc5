"""What a handler needs from the request before it calls the core: the services and the caller."""

from __future__ import annotations

from sanic import Request

from provider.context import Caller, Services


def services_of(request: Request) -> Services:
    services: Services = request.app.ctx.services
    return services


def caller_of(request: Request) -> Caller:
    return Caller(
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:512],
        request_id=request.ctx.request_id,
    )


def client_ip(request: Request) -> str:
    """The forwarded client address only when TRUST_PROXY says proxies are in front."""
    if services_of(request).settings.trust_proxy and request.remote_addr:
        return request.remote_addr
    return request.ip
