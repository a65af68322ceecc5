"""Refused admin calls are audited without flooding the trail: at most one `admin.forbidden` row
per user and route family per PROVIDER_AUDIT_REFUSAL_INTERVAL, and the rows' `suppressed`
counts account for every refusal that was not written."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from provider.accounts.refusals import route_family
from provider.storage.models import AuditEvent
from tests.admin_support import signed_in
from tests.support import Server, assert_error


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/v1/admin/users", "v1/admin/users"),
        ("/v1/admin/users/123/restore", "v1/admin/users"),
        ("/v1/admin/audit-events.csv", "v1/admin/audit-events.csv"),
        ("/admin", "admin"),
        ("/admin/users/123/delete", "admin/users"),
        ("/admin/audit", "admin/audit"),
        ("/v1/admin/" + "x" * 200, "v1/admin/" + "x" * 55),
    ],
)
def test_route_families(path: str, family: str) -> None:
    assert route_family(path) == family


async def _rows(user_id: str) -> list[AuditEvent]:
    return await AuditEvent.filter(event="admin.forbidden", user_id=user_id).order_by("id")


async def test_two_hundred_refusals_write_one_row_per_family(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        user, headers = await signed_in(http, "eve@example.com")
        calls = [http.get("/v1/admin/users", headers=headers) for _ in range(100)]
        calls += [http.get("/v1/admin/stats", headers=headers) for _ in range(100)]
        started = time.time()
        for response in await asyncio.gather(*calls):
            assert_error(response, 403, "forbidden")
        elapsed = time.time() - started
        rows = await _rows(user["id"])
        families = {row.details["path"] for row in rows}
        assert families == {"/v1/admin/users", "/v1/admin/stats"}
        # One row per family and 60-second interval the burst touched.
        assert len(rows) <= 2 * (int(elapsed // 60) + 2)
        assert all(row.outcome == "failure" for row in rows)


async def test_the_next_row_counts_the_suppressed_refusals(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(audit_refusal_interval="1")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        user, headers = await signed_in(http, "eve@example.com")
        started = time.time()
        for _ in range(200):
            assert_error(await http.get("/v1/admin/users", headers=headers), 403, "forbidden")
        elapsed = time.time() - started
        # Into the next one-second interval: its first refusal reports the ones before.
        await asyncio.sleep(1.1)
        assert_error(await http.get("/v1/admin/users", headers=headers), 403, "forbidden")

        rows = await _rows(user["id"])
        assert len(rows) <= int(elapsed) + 3
        assert rows[0].details["suppressed"] == 0
        assert sum(1 + row.details["suppressed"] for row in rows) == 201
