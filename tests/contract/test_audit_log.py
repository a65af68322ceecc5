"""AuditLog contract: every filter, newest-first pages that rows written meanwhile do not shift,
export batches (sizes, limit, start position), and the per-day counts of the stats."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from provider.storage.audit_log import AuditFilter, AuditLog
from provider.storage.db import default_connection
from provider.storage.models import AuditEvent
from provider.storage.unit_of_work import utcnow

DAY = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)


async def _row(
    event: str = "user.login",
    *,
    at: datetime = DAY,
    outcome: str = "success",
    user_id: uuid.UUID | None = None,
    client_id: str | None = None,
    ip: str = "203.0.113.7",
) -> AuditEvent:
    return await AuditEvent.create(
        created_at=at,
        event=event,
        outcome=outcome,
        user_id=user_id,
        client_id=client_id,
        ip=ip,
    )


async def _ids(filters: AuditFilter) -> list[int]:
    rows, more = await AuditLog(default_connection()).page(filters, before_id=None, limit=100)
    assert more is False
    return [row.id for row in rows]


async def test_each_filter_narrows_to_its_rows(backend: str) -> None:
    ada, grace = uuid.uuid4(), uuid.uuid4()
    login = await _row(user_id=ada)
    failed = await _row("user.login_failed", outcome="failure", user_id=grace, ip="198.51.100.1")
    issued = await _row("token.issued", client_id="rp", at=DAY - timedelta(days=2))
    everything = await _ids(AuditFilter())
    assert everything == [issued.id, failed.id, login.id]
    assert await _ids(AuditFilter(user_id=ada)) == [login.id]
    assert await _ids(AuditFilter(client_id="rp")) == [issued.id]
    assert await _ids(AuditFilter(event="user.login_failed")) == [failed.id]
    assert await _ids(AuditFilter(outcome="failure")) == [failed.id]
    assert await _ids(AuditFilter(ip="198.51.100.1")) == [failed.id]
    assert await _ids(AuditFilter(since=DAY - timedelta(days=1))) == [failed.id, login.id]
    assert await _ids(AuditFilter(until=DAY - timedelta(days=1))) == [issued.id]
    # Both ends are inclusive.
    assert await _ids(AuditFilter(since=DAY, until=DAY)) == [failed.id, login.id]
    assert await _ids(AuditFilter(event="user.login", user_id=grace)) == []


async def test_pages_go_newest_first_and_rows_written_meanwhile_shift_nothing(
    backend: str,
) -> None:
    rows = [await _row() for _ in range(5)]
    log = AuditLog(default_connection())
    first, more = await log.page(AuditFilter(), before_id=None, limit=2)
    assert ([r.id for r in first], more) == ([rows[4].id, rows[3].id], True)
    await _row()
    second, more = await log.page(AuditFilter(), before_id=first[-1].id, limit=2)
    assert ([r.id for r in second], more) == ([rows[2].id, rows[1].id], True)
    third, more = await log.page(AuditFilter(), before_id=second[-1].id, limit=2)
    assert ([r.id for r in third], more) == ([rows[0].id], False)


async def test_a_page_applies_its_filters_below_the_position(backend: str) -> None:
    logins = [await _row() for _ in range(3)]
    await _row("user.logout")
    log = AuditLog(default_connection())
    page, more = await log.page(AuditFilter(event="user.login"), before_id=logins[2].id, limit=10)
    assert ([r.id for r in page], more) == ([logins[1].id, logins[0].id], False)


async def _batches(
    filters: AuditFilter, *, before_id: int | None, limit: int | None, size: int
) -> list[list[int]]:
    log = AuditLog(default_connection())
    return [
        [row.id for row in batch]
        async for batch in log.batches(filters, before_id=before_id, limit=limit, batch_size=size)
    ]


async def test_export_batches_cover_every_match_once(backend: str) -> None:
    rows = [await _row() for _ in range(7)]
    await _row("user.logout")
    newest_first = [row.id for row in reversed(rows)]
    batches = await _batches(AuditFilter(event="user.login"), before_id=None, limit=None, size=3)
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert [row_id for batch in batches for row_id in batch] == newest_first


async def test_export_stops_at_the_limit_and_starts_below_the_position(backend: str) -> None:
    rows = [await _row() for _ in range(7)]
    newest_first = [row.id for row in reversed(rows)]
    limited = await _batches(AuditFilter(), before_id=None, limit=4, size=3)
    assert limited == [newest_first[:3], newest_first[3:4]]
    below = await _batches(AuditFilter(), before_id=rows[3].id, limit=None, size=2)
    assert below == [[rows[2].id, rows[1].id], [rows[0].id]]
    assert await _batches(AuditFilter(event="none.such"), before_id=None, limit=None, size=2) == []


async def test_day_counts_and_distinct_users_in_a_half_open_window(backend: str) -> None:
    start = DAY.replace(hour=0)
    end = start + timedelta(days=1)
    ada, grace = uuid.uuid4(), uuid.uuid4()
    await _row("user.login", user_id=ada, at=start)
    await _row("user.login", user_id=ada)
    await _row("token.refreshed", user_id=grace)
    await _row("token.refreshed")
    await _row("user.login_failed", user_id=grace)
    await _row("user.login", user_id=uuid.uuid4(), at=end)  # the next day
    await _row("user.login", user_id=uuid.uuid4(), at=start - timedelta(microseconds=1))
    log = AuditLog(default_connection())
    counts = await log.counts(start, end, ["user.login", "token.refreshed", "user.registered"])
    assert counts == {"user.login": 2, "token.refreshed": 2}
    assert await log.distinct_users(start, end, ["user.login", "token.refreshed"]) == 2
    assert await log.distinct_users(start, end, ["user.registered"]) == 0
