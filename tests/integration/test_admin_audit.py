"""Admin API for the audit trail: filters, cursor pages stable under concurrent inserts, CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from provider.http.audit_export import CSV_COLUMNS
from provider.storage.models import AuditEvent
from provider.storage.unit_of_work import utcnow
from tests.admin_support import admin, auditor
from tests.support import assert_error, login, register

EVENTS = "/v1/admin/audit-events"


async def _row(
    event: str = "test.event",
    *,
    created_at: datetime | None = None,
    outcome: str = "success",
    user_id: uuid.UUID | None = None,
    client_id: str | None = None,
    ip: str = "10.0.0.1",
    user_agent: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return await AuditEvent.create(
        created_at=created_at or utcnow(),
        event=event,
        outcome=outcome,
        user_id=user_id,
        client_id=client_id,
        ip=ip,
        user_agent=user_agent,
        request_id="test",
        details=details or {},
    )


async def _page(http: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await http.get(EVENTS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _ids(http: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        body = await _page(http, headers, **params, **({"cursor": cursor} if cursor else {}))
        ids.extend(event["id"] for event in body["events"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


async def test_filters(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    now = utcnow()
    old = await _row("user.login", user_id=alice, created_at=now - timedelta(days=3))
    a = await _row("user.login", user_id=alice, client_id="app-1", ip="10.0.0.7")
    b = await _row("user.login_failed", user_id=bob, outcome="failure", client_id="app-1")
    c = await _row("user.login", user_id=bob, ip="10.0.0.7")

    async def ids(**params: str) -> set[int]:
        return set(await _ids(client, headers, **params))

    assert await ids(user_id=str(alice)) == {old.id, a.id}
    assert await ids(user_id=str(bob).upper()) == {b.id, c.id}
    assert await ids(client_id="app-1") == {a.id, b.id}
    assert await ids(event="user.login_failed") == {b.id}
    assert await ids(outcome="failure") == {b.id}
    assert await ids(ip="10.0.0.7") == {a.id, c.id}
    assert await ids(event="user.login", ip="10.0.0.7", user_id=str(bob)) == {c.id}
    since = (now - timedelta(days=1)).isoformat()
    assert old.id not in await ids(**{"from": since})
    assert await ids(to=since) == {old.id}
    day = (now - timedelta(days=3)).date().isoformat()
    assert await ids(**{"from": day, "to": day}) == {old.id}
    event = (await _page(client, headers, event="user.login_failed"))["events"][0]
    assert event["user_id"] == str(bob)
    assert event["client_id"] == "app-1"
    assert set(event) == {*CSV_COLUMNS}


async def test_pages_are_stable_while_rows_are_inserted(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    for index in range(40):
        await _row(f"test.{index % 3}")
    existing = set(await AuditEvent.all().values_list("id", flat=True))
    await register(client, "bob@example.com")
    paging_done = asyncio.Event()

    async def insert_meanwhile() -> int:
        inserted = 0
        while not paging_done.is_set():
            await _row("test.concurrent")
            await login(client, "bob@example.com")  # writes through the server as well
            inserted += 1
            await asyncio.sleep(0)
        return inserted

    async def paginate() -> list[int]:
        try:
            ids: list[int] = []
            cursor = None
            while True:
                params = {"limit": "7", **({"cursor": cursor} if cursor else {})}
                body = await _page(client, headers, **params)
                ids.extend(event["id"] for event in body["events"])
                cursor = body["next_cursor"]
                if cursor is None:
                    return ids
                await asyncio.sleep(0.02)
        finally:
            paging_done.set()

    collected, inserted = await asyncio.gather(paginate(), insert_meanwhile())
    assert inserted > 0
    assert len(collected) == len(set(collected)), "a row was listed twice"
    assert collected == sorted(collected, reverse=True)
    assert existing <= set(collected), "a row that existed at the start was skipped"
    assert await AuditEvent.all().count() > len(collected)


async def test_csv_export_parses_with_a_header_row(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    await _row("test.csv", user_agent='=HYPERLINK("http://evil.example")', details={"a": "b,c"})
    await _row("test.csv", user_agent="Mozilla/5.0", ip="10.9.9.9")
    await _row("test.other")
    for url, params in [
        (EVENTS, {"format": "csv", "event": "test.csv"}),
        (f"{EVENTS}.csv", {"event": "test.csv"}),
    ]:
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(response.text)))
        assert tuple(rows[0]) == CSV_COLUMNS
        records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
        assert [record["event"] for record in records] == ["test.csv", "test.csv"]
        assert records[0]["ip"] == "10.9.9.9"
        # A cell a spreadsheet would evaluate is neutralised.
        assert records[1]["user_agent"] == "'" + '=HYPERLINK("http://evil.example")'
        assert json.loads(records[1]["details"]) == {"a": "b,c"}


async def test_csv_export_pages_through_every_row_and_honours_limit(
    client: httpx.AsyncClient,
) -> None:
    headers = await auditor(client)
    total = await AuditEvent.all().count()
    now = utcnow()
    await AuditEvent.bulk_create(
        [AuditEvent(created_at=now, event="test.bulk", outcome="success") for _ in range(1205)]
    )
    response = await client.get(f"{EVENTS}.csv", headers=headers)
    rows = list(csv.reader(io.StringIO(response.text)))
    assert len(rows) == 1 + total + 1205
    ids = [int(row[0]) for row in rows[1:]]
    assert ids == sorted(set(ids), reverse=True)
    limited = await client.get(f"{EVENTS}.csv", params={"limit": "10"}, headers=headers)
    assert len(list(csv.reader(io.StringIO(limited.text)))) == 11


@pytest.mark.parametrize(
    "query",
    [
        "user_id=bob",
        "from=last-week",
        "to=2024-02-30",
        "cursor=%%%",
        "cursor=eyJrIjoiYXVkaXQiLCJwIjpbInNldmVuIl19",
        "cursor=eyJrIjoiYXVkaXQiLCJwIjpbdHJ1ZV19",
        "limit=500",
        "format=xml",
        "order=asc",
        "event=a&event=b",
    ],
)
async def test_bad_parameters_are_400(client: httpx.AsyncClient, query: str) -> None:
    headers = await admin(client)
    assert_error(await client.get(f"{EVENTS}?{query}", headers=headers), 400)
    if "format" not in query:
        assert_error(await client.get(f"{EVENTS}.csv?{query}", headers=headers), 400)
