"""The global per-IP rate limit, counted for every request before its route runs.

On top of the limits of each action (`provider.accounts.limits`); off unless
PROVIDER_RATELIMIT_GLOBAL_PER_IP is set. Probes and scrapes (health, readiness, metrics) are not
counted: a load balancer or Prometheus behind one address must never be refused.
"""

from __future__ import annotations

from sanic import Request

from provider.accounts.limits import admit_any_request
from provider.config import Settings
from provider.http.context import caller_of, services_of
from provider.sanic_app import App

EXEMPT = ("/health", "/ready", "/metrics")


def install_request_limit(app: App, settings: Settings) -> None:
    if not settings.ratelimit_global_per_ip:
        return

    async def count(request: Request) -> None:
        if request.path in EXEMPT:
            return
        await admit_any_request(services_of(request), caller_of(request))

    # After the request id is set (priority 100), so a refusal carries it.
    app.register_middleware(count, "request", priority=90)
