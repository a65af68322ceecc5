"""Reading the audit trail: filtered pages, batches for the CSV export, and per-day counts.

Rows are read newest first by id, and a page or a batch starts below the last id seen. Rows
written meanwhile have higher ids, so they never shift a page: no duplicates, no gaps.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from provider.storage.models import AuditEvent

EXPORT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the audit trail is searched by; None matches everything. `since` and `until` are
    inclusive."""

    user_id: uuid.UUID | None = None
    client_id: str | None = None
    event: str | None = None
    outcome: str | None = None
    ip: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditLog:
    """The audit rows, read on the caller's connection (rows are written by the unit of work)."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def page(
        self, filters: AuditFilter, *, before_id: int | None, limit: int
    ) -> tuple[list[AuditEvent], bool]:
        """Up to `limit` matching rows, newest first, below `before_id`; and whether more
        follow."""
        rows = await self._matching(filters, before_id).order_by("-id").limit(limit + 1)
        return rows[:limit], len(rows) > limit

    async def batches(
        self,
        filters: AuditFilter,
        *,
        before_id: int | None,
        limit: int | None,
        batch_size: int = EXPORT_BATCH,
    ) -> AsyncIterator[list[AuditEvent]]:
        """Every matching row below `before_id` (or the first `limit`), newest first, in
        batches of at most `batch_size`: an export never holds the whole trail in memory."""
        sent, last_id = 0, before_id
        while limit is None or sent < limit:
            size = batch_size if limit is None else min(batch_size, limit - sent)
            batch = await self._matching(filters, last_id).order_by("-id").limit(size)
            if not batch:
                return
            yield batch
            sent += len(batch)
            last_id = batch[-1].id

    async def counts(self, start: datetime, end: datetime, events: Iterable[str]) -> dict[str, int]:
        """How many rows of each of `events` were written in [start, end)."""
        rows = (
            await self._window(start, end)
            .filter(event__in=list(events))
            .annotate(n=Count("id"))
            .group_by("event")
            .values("event", "n")
        )
        return {row["event"]: int(row["n"]) for row in rows}

    async def distinct_users(self, start: datetime, end: datetime, events: Iterable[str]) -> int:
        """How many different users have a row of one of `events` in [start, end)."""
        rows = (
            await self._window(start, end)
            .filter(event__in=list(events), user_id__isnull=False)
            .annotate(n=Count("user_id", distinct=True))
            .values("n")
        )
        return int(rows[0]["n"]) if rows else 0

    def _window(self, start: datetime, end: datetime) -> QuerySet[AuditEvent]:
        return AuditEvent.filter(created_at__gte=start, created_at__lt=end).using_db(self._conn)

    def _matching(self, filters: AuditFilter, before_id: int | None) -> QuerySet[AuditEvent]:
        query = AuditEvent.all().using_db(self._conn)
        if filters.user_id is not None:
            query = query.filter(user_id=filters.user_id)
        for name in ("client_id", "event", "outcome", "ip"):
            value = getattr(filters, name)
            if value is not None:
                query = query.filter(**{name: value})
        if filters.since is not None:
            query = query.filter(created_at__gte=filters.since)
        if filters.until is not None:
            query = query.filter(created_at__lte=filters.until)
        if before_id is not None:
            query = query.filter(id__lt=before_id)
        return query
