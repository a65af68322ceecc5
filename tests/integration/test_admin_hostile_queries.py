"""Hostile query strings on every admin list route, API and pages: always a 400, never a 500.

Each case was a 500 (or could be one) before the parsing moved into provider.http.admin_params:
dates whose UTC value falls outside what datetime can hold, `limit=²` (a digit to `isdigit`, not
to `int`), an audit cursor id beyond int64, a NUL inside a decoded cursor, filters longer than
their column. The API answers the documented error shape; the pages an error page.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from provider.http.admin_params import encode_cursor
from tests.admin_support import account, admin
from tests.oidc import hidden_fields
from tests.support import PASSWORD, Server, assert_error

SOME_ID = str(uuid.UUID(int=1))
FAR_DATES = [
    "9999-12-31T23:59:59-12:00",  # UTC is year 10000
    "0001-01-01T00:00:00+14:00",  # UTC is year 0
    "9999-12-31T23:59:59.999999-00:01",
    "0001-01-01T00:00:00.000001+00:01",
]
BAD_DATES = ["99999-01-01", "2024-13-01", "2024-02-30", "yesterday", "1e9", "2024-01-01T25:00"]
BAD_LIMITS = ["²", "\u0661\u0660", "0", "-1", "101", "1e3", "9" * 40, "5.0", "+5", "0x10"]
LONG = "a" * 1024


def _raw_cursor(data: Any) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _users_cursors() -> list[str]:
    return [
        encode_cursor("users:-created_at", ["9999-12-31T23:59:59-12:00", SOME_ID]),
        encode_cursor("users:-created_at", ["0001-01-01T00:00:00+14:00", SOME_ID]),
        encode_cursor("users:-created_at", ["not a date", SOME_ID]),
        encode_cursor("users:-created_at", ["2024-01-01T00:00:00", "not-a-uuid"]),
        encode_cursor("users:-created_at", ["2024-01-01T00:00:00\x00", SOME_ID]),
        encode_cursor("users:email", ["a\x00b@example.com", SOME_ID]),
        encode_cursor("users:email", ["a" * 2000, SOME_ID]),
        encode_cursor("users:email", [None, SOME_ID]),
        encode_cursor("users:email", ["\ud800@example.com", SOME_ID]),
        encode_cursor("users:-created_at", ["2024-01-01T00:00:00", SOME_ID + "\x00"]),
        _raw_cursor({"k": "users:-created_at", "p": [["nested"], SOME_ID]}),
        base64.urlsafe_b64encode(b"\xff\xfe not utf-8").decode(),
        "!!not base64!!",
    ]


def _clients_cursors() -> list[str]:
    return [
        encode_cursor("clients", ["9999-12-31T23:59:59-12:00", "c"]),
        encode_cursor("clients", ["2024-01-01T00:00:00", "c\x00"]),
        encode_cursor("clients", ["2024-01-01T00:00:00\x00", "c"]),
        encode_cursor("clients", ["2024-01-01T00:00:00", "c" * 2000]),
        encode_cursor("clients", [12, "c"]),
        _raw_cursor({"k": "clients", "p": {"a": 1}}),
    ]


def _audit_cursors() -> list[str]:
    return [
        encode_cursor("audit", [2**63]),
        encode_cursor("audit", [10**40]),
        encode_cursor("audit", [-(2**63) - 1]),
        encode_cursor("audit", [1.5]),
        encode_cursor("audit", ["1\x00"]),
        encode_cursor("audit", [True]),
        _raw_cursor({"k": "audit", "p": [1e400]}),
    ]


def _users_cases() -> list[dict[str, str]]:
    cases: list[dict[str, str]] = []
    for name in ("created_from", "created_to"):
        cases += [{name: value} for value in FAR_DATES + BAD_DATES[:3]]
    cases += [{"limit": value} for value in BAD_LIMITS[:6]]
    cases += [{"cursor": value} for value in _users_cursors()]
    cases += [{"cursor": encode_cursor("users:email", ["a\x00b", SOME_ID]), "sort": "email"}]
    cases += [{"q": LONG}, {"q": "a\x00b"}, {"role": LONG}, {"status": "a\x00"}]
    cases += [{"sort": "\x00"}, {"unknown": "1"}]
    return cases


def _audit_cases(*, cursor: bool = True) -> list[dict[str, str]]:
    cases: list[dict[str, str]] = []
    for name in ("from", "to"):
        cases += [{name: value} for value in FAR_DATES + BAD_DATES[:2]]
    cases += [{"limit": value} for value in BAD_LIMITS]
    for name in ("event", "client_id", "outcome", "ip", "user_id"):
        cases += [{name: LONG}, {name: "x\x00y"}]
    cases += [{"user_id": "not-a-uuid"}]
    if cursor:
        cases += [{"cursor": value} for value in _audit_cursors()]
    return cases


API_CASES: list[tuple[str, dict[str, str]]] = (
    [("/v1/admin/users", case) for case in _users_cases()]
    + [("/v1/admin/clients", {"cursor": value}) for value in _clients_cursors()]
    + [("/v1/admin/clients", {"limit": value}) for value in BAD_LIMITS[:4]]
    + [("/v1/admin/audit-events", case) for case in _audit_cases()]
    + [("/v1/admin/audit-events.csv", case) for case in _audit_cases()[::2]]
    + [("/v1/admin/stats", {"days": value}) for value in ["²", "\u0661", "0", "32", "9" * 40]]
)

PAGE_CASES: list[tuple[str, dict[str, str]]] = (
    [("/admin", case) for case in _users_cases()[::2]]
    + [("/admin/clients", {"cursor": value}) for value in _clients_cursors()]
    + [("/admin/audit", case) for case in _audit_cases()[::2]]
    + [("/admin/audit.csv", case) for case in _audit_cases(cursor=False)[::3]]
)


def _url(path: str, query: dict[str, str]) -> str:
    return path + "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items())


@pytest.fixture
async def api(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        http.headers.update(await admin(http))
        yield http


@pytest.fixture
async def pages(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await account(http, "root@example.com", "admin")
        page = await http.get("/login", params={"next": "/admin"})
        form = {**hidden_fields(page.text), "identifier": "root@example.com", "password": PASSWORD}
        signed_in = await http.post("/login", data=form)
        assert signed_in.status_code in (200, 303), signed_in.text
        yield http


def _ids(cases: list[tuple[str, dict[str, str]]]) -> list[str]:
    return [f"{path}?{json.dumps(query)[:60]}" for path, query in cases]


async def test_the_api_matrix_covers_every_list_route() -> None:
    assert len(API_CASES) + len(PAGE_CASES) >= 90
    assert {path for path, _ in API_CASES} == {
        "/v1/admin/users",
        "/v1/admin/clients",
        "/v1/admin/audit-events",
        "/v1/admin/audit-events.csv",
        "/v1/admin/stats",
    }


async def test_hostile_queries_on_the_api_are_400(api: httpx.AsyncClient) -> None:
    failures = []
    for path, query in API_CASES:
        response = await api.get(_url(path, query))
        try:
            assert_error(response, 400)
        except AssertionError:
            failures.append((path, query, response.status_code, response.text[:200]))
    assert failures == []


async def test_hostile_queries_on_the_pages_are_400(pages: httpx.AsyncClient) -> None:
    failures = []
    for path, query in PAGE_CASES:
        response = await pages.get(_url(path, query))
        if not (
            response.status_code == 400
            and response.headers["content-type"].startswith("text/html")
            and "Traceback" not in response.text
        ):
            failures.append((path, query, response.status_code, response.text[:200]))
    assert failures == []
