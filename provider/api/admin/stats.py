"""GET /v1/admin/stats: daily counts of the last days (UTC), computed from the audit trail.

Each day is a half-open range [00:00, next 00:00) in UTC, counted with GROUP BY and
COUNT(DISTINCT) in the database, so the same code works on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from provider.accounts.roles import READERS
from provider.api.admin.roles import require_role
from provider.http.admin_params import bounded_int, query_of
from provider.http.responses import ok
from provider.storage.audit_log import AuditLog
from provider.storage.db import default_connection
from provider.storage.unit_of_work import utcnow

bp = Blueprint("api_admin_stats", url_prefix="/v1/admin")

# Metric name → the audit event it counts.
COUNTED = {
    "sign_ups": "user.registered",
    "logins": "user.login",
    "failed_logins": "user.login_failed",
    "lockouts": "user.locked",
    "token_refreshes": "token.refreshed",
    "reuse_detections": "token.reuse_detected",
}
# A user is active on a day when they signed in or refreshed a token that day.
ACTIVITY = ("user.login", "token.refreshed")
DEFAULT_DAYS = 7
MAX_DAYS = 31


async def day_stats(day: date) -> dict[str, Any]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    audit_log = AuditLog(default_connection())
    counts = await audit_log.counts(start, end, COUNTED.values())
    stats: dict[str, Any] = {"date": day.isoformat()}
    stats.update({name: counts.get(event, 0) for name, event in COUNTED.items()})
    stats["active_users"] = await audit_log.distinct_users(start, end, ACTIVITY)
    return stats


@bp.get("/stats")
@openapi.tag("admin")
@openapi.summary("Per-day sign-ups, logins, failures, lockouts, active users, refreshes, reuse")
@openapi.description(
    "The last `days` (default 7, at most 31) UTC dates, oldest first, today included. "
    "`active_users` counts distinct users with a login or a token refresh that day."
)
@openapi.secured("bearer")
@openapi.response(200, description='{"days": [{"date", "sign_ups", ...}], "totals": {...}}')
async def stats(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    params = query_of(request, {"days"})
    count = bounded_int("days", params.get("days", str(DEFAULT_DAYS)), 1, MAX_DAYS)
    today = utcnow().date()
    days = [await day_stats(today - timedelta(days=n)) for n in range(count - 1, -1, -1)]
    totals = {name: sum(day[name] for day in days) for name in COUNTED}
    return ok({"days": days, "totals": totals})
