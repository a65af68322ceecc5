"""GET /v1/admin/audit-events (JSON pages or CSV export) for admins and auditors.

Rows come newest first by id; the cursor is "id < the last id seen" (provider.storage.audit_log).
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.roles import READERS
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.admin_listings import AUDIT_FILTERS, audit_page
from provider.http.admin_params import invalid, limit_of, query_of
from provider.http.admin_views import event_view
from provider.http.audit_export import export_csv
from provider.http.blueprint import Blueprint
from provider.http.responses import ok

bp = Blueprint("api_admin_audit", url_prefix="/v1/admin")


def _params(request: Request, extra: set[str]) -> dict[str, str]:
    return query_of(request, AUDIT_FILTERS | {"limit", "cursor"} | extra)


@bp.get("/audit-events")
@api_doc.tag("admin")
@api_doc.summary("The audit trail, newest first; ?format=csv exports it (admin, auditor)")
@api_doc.description(
    "Filters: `user_id`, `client_id`, `event`, `outcome`, `ip`, `from`/`to` (ISO 8601). "
    "`limit` ≤ 100; `next_cursor` goes back as `cursor`. `format=csv` streams every match "
    "(or `limit` rows) as CSV with a header row."
)
@api_doc.secured("bearer")
@api_doc.response(200, description='{"events": [...], "next_cursor": str | null}')
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
@api_doc.tag("admin")
@api_doc.summary("The audit trail as CSV, with the same filters (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(200, description="text/csv with a header row")
async def export_events(request: Request) -> None:
    await require_role(request, *READERS)
    await export_csv(request, _params(request, set()))
