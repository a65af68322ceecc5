"""The audit trail as CSV, streamed in batches, for the admin API and the admin pages."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from sanic import Request

from provider.http.admin_listings import audit_filter, audit_position
from provider.http.admin_params import limit_of
from provider.http.admin_views import event_view
from provider.storage.audit_log import AuditLog
from provider.storage.db import default_connection
from provider.storage.models import AuditEvent

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
# Cells a spreadsheet would run as a formula (OWASP "CSV injection") get a leading quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
    """Every matching row (or `limit` of them), streamed in batches; the header row first.

    The parameters are all checked before the first byte is sent, so a bad one is still a
    clean refusal."""
    limit = limit_of(params) if "limit" in params else None
    filters, before_id = audit_filter(params), audit_position(params)
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
    batches = AuditLog(default_connection()).batches(filters, before_id=before_id, limit=limit)
    async for batch in batches:
        await response.send(csv_rows(batch))
    await response.eof()
