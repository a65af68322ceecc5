"""Daily activity counted from the audit trail, for the admin API and the console's dashboard.

Each day is a half-open range [00:00, next 00:00) in UTC, counted with GROUP BY and
COUNT(DISTINCT) in the database, so the same code works on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from provider.storage.audit_log import AuditLog
from provider.storage.db import default_connection
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import utcnow

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


async def daily_stats(count: int) -> dict[str, Any]:
    """The last `count` UTC dates, oldest first, today included, and their totals."""
    today = utcnow().date()
    days = [await day_stats(today - timedelta(days=n)) for n in range(count - 1, -1, -1)]
    totals = {name: sum(day[name] for day in days) for name in COUNTED}
    return {"days": days, "totals": totals}


async def live_sessions(idle_ttl: int) -> int:
    """Sessions that are live now: not ended, not past their lifetime, active within `idle_ttl`."""
    now = utcnow()
    return await SessionReads(default_connection()).count_live(
        now, now - timedelta(seconds=idle_ttl)
    )
