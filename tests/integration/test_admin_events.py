"""Admin actions on Redis pub/sub: enough in each payload to act on, and the example subscriber."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from provider.storage.models import AuditEvent, User
from tests.admin_support import admin
from tests.support import ROOT, EventCollector, Server, bearer, login, register


async def test_admin_events_carry_the_target_the_admin_and_the_audit_row(
    events_server: Server, events_redis_url: str
) -> None:
    async with httpx.AsyncClient(base_url=events_server.url, timeout=30) as http:
        headers = await admin(http)
        root = await User.get(email="root@example.com")
        user = await register(http, "bob@example.com")
        tokens = await login(http, "bob@example.com")
        async with EventCollector(events_redis_url) as events:
            response = await http.delete(f"/v1/admin/users/{user['id']}", headers=headers)
            assert response.status_code == 200, response.text
            deleted = await events.wait_for("auth:admin.user_deleted")
            bulk = await events.wait_for("auth:sessions.bulk_revoked")
    row = await AuditEvent.get(event="admin.user_deleted")
    assert deleted == {
        "event": "admin.user_deleted",
        "audit_id": row.id,
        "outcome": "success",
        "user_id": user["id"],
        "session_id": None,
        "client_id": None,
        "ip": "127.0.0.1",
        "request_id": row.request_id,
        "time": deleted["time"],
        "admin_id": str(root.id),
        "sessions_revoked": 1,
    }
    assert abs(row.created_at.timestamp() - _timestamp(deleted["time"])) < 1
    assert bulk["user_id"] == user["id"]
    assert bulk["count"] == 1
    assert bulk["request_id"] == row.request_id
    assert tokens["session"]["id"]


def _timestamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _read_lines(path: Path, until: float, want: int) -> list[dict[str, Any]]:
    while True:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        if len(lines) >= want or time.monotonic() > until:
            return [json.loads(line) for line in lines]
        time.sleep(0.1)


def _start_subscriber(redis_url: str, out: Path, err: Path) -> subprocess.Popen[bytes]:
    """`python -m clients.subscriber` as an operator runs it; stdout and stderr to files."""
    with out.open("wb") as stdout, err.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "clients.subscriber", "--redis-url", redis_url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=stdout,
            stderr=stderr,
        )


async def test_the_example_subscriber_prints_each_event_as_a_json_line(
    events_server: Server, events_redis_url: str, tmp_path: Path
) -> None:
    out, err = tmp_path / "events.jsonl", tmp_path / "subscriber.log"
    process = _start_subscriber(events_redis_url, out, err)
    try:
        deadline = time.monotonic() + 20
        while "subscribed to auth:*" not in err.read_text():
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=events_server.url, timeout=30) as http:
            user = await register(http, "bob@example.com")
            tokens = await login(http, "bob@example.com")
            await http.post("/v1/auth/logout", headers=bearer(tokens))
        lines = await asyncio.to_thread(_read_lines, out, time.monotonic() + 10, 5)
    finally:
        process.terminate()
        process.wait(timeout=10)
    by_event = {line["event"]: line for line in lines}
    assert {"user.registered", "session.created", "user.login", "session.revoked"} <= set(
        by_event
    ), lines
    for line in lines:
        assert line["channel"] == "auth:" + line["event"]
        assert isinstance(line["audit_id"], int)
        assert line["time"]
    assert by_event["user.login"]["user_id"] == user["id"]
    assert by_event["session.revoked"]["session_id"] == tokens["session"]["id"]
    assert by_event["session.revoked"]["reason"] == "logout"
