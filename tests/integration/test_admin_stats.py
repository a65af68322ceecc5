"""Admin stats: per-day numbers equal to the events the test caused, UTC days, last 7 days."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import httpx

from provider.storage.models import AuditEvent
from provider.storage.unit_of_work import utcnow
from tests.admin_support import admin
from tests.support import PASSWORD, assert_error, login, register

STATS = "/v1/admin/stats"
ZERO = {
    "sign_ups": 0,
    "logins": 0,
    "failed_logins": 0,
    "lockouts": 0,
    "active_users": 0,
    "token_refreshes": 0,
    "reuse_detections": 0,
}


async def _at(day_offset: int, event: str, user_id: uuid.UUID | None, hour: int = 12) -> None:
    day = utcnow().date() - timedelta(days=day_offset)
    await AuditEvent.create(
        created_at=datetime.combine(day, time(hour), tzinfo=UTC),
        event=event,
        outcome="failure" if event == "user.login_failed" else "success",
        user_id=user_id,
        request_id="test",
    )


async def test_stats_count_what_happened(client: httpx.AsyncClient) -> None:
    headers = await admin(client)  # one sign-up and one login
    await register(client, "bob@example.com")
    await register(client, "carol@example.com")
    await login(client, "bob@example.com")
    tokens = await login(client, "bob@example.com")
    refresh = "/v1/auth/tokens/refresh"
    rotated = await client.post(refresh, json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    replay = await client.post(refresh, json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401
    for index in range(5):  # the fifth failure locks carol's account
        response = await client.post(
            "/v1/auth/sessions",
            json={"identifier": "carol@example.com", "password": f"wrong {index}"},
        )
        assert_error(response, 401, "invalid_credentials")
    locked = await client.post(
        "/v1/auth/sessions", json={"identifier": "carol@example.com", "password": PASSWORD}
    )
    assert_error(locked, 423)

    # Earlier days, written straight into the trail: yesterday, 6 days ago, and 7 (too old).
    dave, erin = uuid.uuid4(), uuid.uuid4()
    await _at(1, "user.login", dave, hour=0)
    await _at(1, "user.login", dave, hour=23)
    await _at(1, "token.refreshed", erin)
    await _at(1, "token.reuse_detected", erin)
    await _at(6, "user.registered", dave)
    await _at(7, "user.registered", erin)

    response = await client.get(STATS, headers=headers)
    assert response.status_code == 200, response.text
    days = response.json()["days"]
    today = utcnow().date()
    assert [day["date"] for day in days] == [
        (today - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    assert days[-1] == {
        "date": today.isoformat(),
        "sign_ups": 3,
        "logins": 3,
        "failed_logins": 5,
        "lockouts": 1,
        "active_users": 2,
        "token_refreshes": 1,
        "reuse_detections": 1,
    }
    assert days[-2] == {
        **ZERO,
        "date": (today - timedelta(days=1)).isoformat(),
        "logins": 2,
        "active_users": 2,
        "token_refreshes": 1,
        "reuse_detections": 1,
    }
    assert days[0] == {**ZERO, "date": days[0]["date"], "sign_ups": 1}
    assert all(day == {**ZERO, "date": day["date"]} for day in days[1:5])
    totals = response.json()["totals"]
    assert totals["sign_ups"] == 4
    assert totals["logins"] == 5

    # The same numbers, straight from the rows the test caused.
    start = datetime.combine(today, time.min, tzinfo=UTC)
    for name, event in [("logins", "user.login"), ("failed_logins", "user.login_failed")]:
        count = await AuditEvent.filter(event=event, created_at__gte=start).count()
        assert days[-1][name] == count

    one = await client.get(STATS, params={"days": "1"}, headers=headers)
    assert one.json()["days"] == days[-1:]


async def test_stats_parameters(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    long = await client.get(STATS, params={"days": "31"}, headers=headers)
    assert len(long.json()["days"]) == 31
    for query in ("days=0", "days=32", "days=week", "since=1"):
        assert_error(await client.get(f"{STATS}?{query}", headers=headers), 400)
