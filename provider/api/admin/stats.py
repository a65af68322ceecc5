"""GET /v1/admin/stats: daily counts of the last days (UTC), computed from the audit trail
(provider.accounts.stats, which the console's dashboard charts too)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.roles import READERS
from provider.accounts.stats import DEFAULT_DAYS, MAX_DAYS, daily_stats
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.admin_params import bounded_int, query_of
from provider.http.blueprint import Blueprint
from provider.http.responses import ok

bp = Blueprint("api_admin_stats", url_prefix="/v1/admin")


@bp.get("/stats")
@api_doc.tag("admin")
@api_doc.summary("Per-day sign-ups, logins, failures, lockouts, active users, refreshes, reuse")
@api_doc.description(
    "The last `days` (default 7, at most 31) UTC dates, oldest first, today included. "
    "`active_users` counts distinct users with a login or a token refresh that day."
)
@api_doc.secured("bearer")
@api_doc.response(200, description='{"days": [{"date", "sign_ups", ...}], "totals": {...}}')
async def stats(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    params = query_of(request, {"days"})
    count = bounded_int("days", params.get("days", str(DEFAULT_DAYS)), 1, MAX_DAYS)
    return ok(await daily_stats(count))
