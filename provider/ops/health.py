"""GET /health (the process answers), GET /ready (database and cache reachable, not draining),
GET /metrics.

The listener opens only once the pools are open and the signing keys loaded (a worker without an
active RS256 key does not start), so /ready cannot answer before those are usable.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from sanic import Request
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response

from provider.cache.base import CacheUnavailable
from provider.http.blueprint import Blueprint
from provider.http.context import services_of
from provider.http.errors import unauthorized
from provider.ops import metrics
from provider.storage.db import default_connection, ping_database
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import utcnow

bp = Blueprint("ops")
log = logging.getLogger("provider.ops")


@bp.get("/health")
async def health(request: Request) -> HTTPResponse:
    return json_response({"status": "ok"})


@bp.get("/ready")
async def ready(request: Request) -> HTTPResponse:
    if request.app.ctx.shutdown.draining:
        # Draining: load balancers stop sending here while in-flight requests finish.
        return json_response({"status": "draining"}, status=503)
    services = services_of(request)
    checks = {"database": "ok", "cache": "ok"}
    try:
        await ping_database()
    except Exception as exc:  # any driver error means "not ready", never a 500
        log.warning("database not ready", extra={"err": str(exc)})
        checks["database"] = "unavailable"
    try:
        await services.cache.ping()
    except (CacheUnavailable, OSError) as exc:
        log.warning("cache not ready", extra={"err": str(exc)})
        checks["cache"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return json_response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


@bp.get("/metrics")
async def metrics_endpoint(request: Request) -> HTTPResponse:
    token = services_of(request).settings.metrics_token
    if token is not None:
        presented = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise unauthorized("A metrics token is required.")
    now = utcnow()
    idle_cutoff = now - timedelta(seconds=services_of(request).settings.session_idle_ttl)
    active = await SessionReads(default_connection()).count_live(now, idle_cutoff)
    body, content_type = metrics.render(active)
    return raw(body, content_type=content_type)
