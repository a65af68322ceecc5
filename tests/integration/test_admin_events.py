"""Admin actions on Redis pub/sub: enough in each payload to act on, and the example subscriber."""

from __future__ import annotations

import asyncio
import contextlib
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


async def _payload_about(events: EventCollector, channel: str, user_id: str) -> dict[str, Any]:
    """The first message on `channel` about `user_id` (the server may carry other test runs)."""
    deadline = time.monotonic() + 10
    while True:
        for seen, payload in events.messages:
            if seen == channel and payload.get("user_id") == user_id:
                return payload
        assert time.monotonic() < deadline, f"no {channel} about {user_id}"
        with contextlib.suppress(AssertionError):
            await events.wait_for("auth:-", within=0.2)  # receives whatever arrives meanwhile


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
            deleted = await _payload_about(events, "auth:admin.user_deleted", user["id"])
            bulk = await _payload_about(events, "auth:sessions.bulk_revoked", user["id"])
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


def _read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def _events_of(path: Path, user_id: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """The subscriber's lines about `user_id`, by event, once all of `wanted` arrived.

    Channels are global to a Redis server, whatever its database number: other test runs on the
    same server may publish too, so lines are matched by user, not counted.
    """
    deadline = time.monotonic() + 15
    while True:
        lines = [line for line in _read_lines(path) if line.get("user_id") == user_id]
        by_event = {line["event"]: line for line in lines}
        if wanted <= set(by_event) or time.monotonic() > deadline:
            return by_event
        await asyncio.sleep(0.1)


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
        wanted = {"user.registered", "session.created", "user.login", "session.revoked"}
        by_event = await _events_of(out, user["id"], wanted)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert wanted <= set(by_event), by_event
    for line in by_event.values():
        assert line["channel"] == "auth:" + line["event"]
        assert isinstance(line["audit_id"], int)
        assert line["time"]
    assert by_event["session.revoked"]["session_id"] == tokens["session"]["id"]
    assert by_event["session.revoked"]["reason"] == "logout"
    assert by_event["user.login"]["session_id"] == tokens["session"]["id"]
