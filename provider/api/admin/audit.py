"""GET /v1/admin/audit-events (JSON pages or CSV export) for admins and auditors.

Rows come newest first by id; the cursor is "id < the last id seen". Rows written while someone
pages have higher ids, so they never shift a page: no duplicates, no gaps.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi
from tortoise.queryset import QuerySet

from provider.api.admin.params import (
    cursor_int64,
    datetime_of,
    decode_cursor,
    encode_cursor,
    invalid,
    limit_of,
    query_of,
    uuid_of,
)
from provider.api.admin.roles import READERS, require_role
from provider.http.responses import ok
from provider.storage.models import AuditEvent

bp = Blueprint("api_admin_audit", url_prefix="/v1/admin")

FILTERS = {"user_id", "client_id", "event", "outcome", "ip", "from", "to"}
CSV_COLUMNS = (
    "id",
    "created_at",
    "event",
    "outcome",
    "user_id",
    "session_id",
    "client_id",
    "ip",
    "user_agent",
    "request_id",
    "details",
)
CSV_BATCH = 1000
# Cells a spreadsheet would run as a formula (OWASP "CSV injection") get a leading quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "event": event.event,
        "outcome": event.outcome,
        "user_id": str(event.user_id) if event.user_id else None,
        "session_id": str(event.session_id) if event.session_id else None,
        "client_id": event.client_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "details": event.details,
    }


def filtered_events(params: dict[str, str]) -> QuerySet[AuditEvent]:
    query = AuditEvent.all()
    if "user_id" in params:
        query = query.filter(user_id=uuid_of("user_id", params["user_id"]))
    for name in ("client_id", "event", "outcome", "ip"):
        if name in params:
            query = query.filter(**{name: params[name]})
    if "from" in params:
        query = query.filter(created_at__gte=datetime_of("from", params["from"]))
    if "to" in params:
        query = query.filter(created_at__lte=datetime_of("to", params["to"], end_of_day=True))
    return query


def before_cursor(query: QuerySet[AuditEvent], cursor: str) -> QuerySet[AuditEvent]:
    (last_id,) = decode_cursor(cursor, "audit", 1)
    return query.filter(id__lt=cursor_int64(last_id))


async def audit_page(params: dict[str, str], limit: int) -> tuple[list[AuditEvent], str | None]:
    """One page of events, newest first, and the cursor of the next (None on the last)."""
    query = filtered_events(params)
    if "cursor" in params:
        query = before_cursor(query, params["cursor"])
    rows = await query.order_by("-id").limit(limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor("audit", [page[-1].id]) if len(rows) > limit else None
    return page, next_cursor


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_rows(events: Iterable[AuditEvent]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for event in events:
        view = event_view(event)
        view["details"] = json.dumps(view["details"], separators=(",", ":"), sort_keys=True)
        writer.writerow([_cell(view[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


async def export_csv(request: Request, params: dict[str, str]) -> None:
    """Every matching row (or `limit` of them), streamed in batches; the header row first."""
    limit = limit_of(params) if "limit" in params else None
    base = filtered_events(params)
    if "cursor" in params:
        base = before_cursor(base, params["cursor"])
    response = await request.respond(
        content_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="audit-events.csv"',
        },
    )
    header = io.StringIO()
    csv.writer(header).writerow(CSV_COLUMNS)
    await response.send(header.getvalue())
    sent, last_id = 0, None
    while limit is None or sent < limit:
        batch_size = CSV_BATCH if limit is None else min(CSV_BATCH, limit - sent)
        query = base if last_id is None else base.filter(id__lt=last_id)
        batch = await query.order_by("-id").limit(batch_size)
        if not batch:
            break
        await response.send(csv_rows(batch))
        sent += len(batch)
        last_id = batch[-1].id
    await response.eof()


def _params(request: Request, extra: set[str]) -> dict[str, str]:
    return query_of(request, FILTERS | {"limit", "cursor"} | extra)


@bp.get("/audit-events")
@openapi.tag("admin")
@openapi.summary("The audit trail, newest first; ?format=csv exports it (admin, auditor)")
@openapi.description(
    "Filters: `user_id`, `client_id`, `event`, `outcome`, `ip`, `from`/`to` (ISO 8601). "
    "`limit` ≤ 100; `next_cursor` goes back as `cursor`. `format=csv` streams every match "
    "(or `limit` rows) as CSV with a header row."
)
@openapi.secured("bearer")
@openapi.response(200, description='{"events": [...], "next_cursor": str | null}')
async def list_events(request: Request) -> HTTPResponse | None:
    await require_role(request, *READERS)
    params = _params(request, {"format"})
    output = params.pop("format", "json")
    if output not in ("json", "csv"):
        raise invalid("format", "must be json or csv")
    if output == "csv":
        await export_csv(request, params)
        return None
    events, next_cursor = await audit_page(params, limit_of(params))
    return ok({"events": [event_view(e) for e in events], "next_cursor": next_cursor})


@bp.get("/audit-events.csv")
@openapi.tag("admin")
@openapi.summary("The audit trail as CSV, with the same filters (admin, auditor)")
@openapi.secured("bearer")
@openapi.response(200, description="text/csv with a header row")
async def export_events(request: Request) -> None:
    await require_role(request, *READERS)
    await export_csv(request, _params(request, set()))
