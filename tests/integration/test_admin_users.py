"""Admin API for users: role checks, listing and search, the account view, changes and actions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from provider.accounts.administration import UNUSABLE_PASSWORD
from provider.storage.models import AuditEvent, RefreshToken, Session, User
from provider.storage.unit_of_work import utcnow
from tests.admin_support import account, admin, auditor, signed_in
from tests.support import PASSWORD, assert_error, bearer, login, register

USERS = "/v1/admin/users"


async def _list(http: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await http.get(USERS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def _all_pages(
    http: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    cursor = params.pop("cursor", None)
    while True:
        body = await _list(http, headers, **params, **({"cursor": cursor} if cursor else {}))
        users.extend(body["users"])
        cursor = body["next_cursor"]
        if cursor is None:
            return users


# --- who may call it -----------------------------------------------------------------------------


async def test_without_a_token_the_admin_api_answers_401(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", USERS),
        ("GET", "/v1/admin/audit-events"),
        ("GET", "/v1/admin/stats"),
    ]:
        assert_error(await client.request(method, path), 401)


async def test_a_plain_user_is_forbidden_and_the_attempt_audited(
    client: httpx.AsyncClient,
) -> None:
    user, headers = await signed_in(client, "eve@example.com")
    target = await account(client, "bob@example.com")
    attempts = [
        ("GET", USERS, None),
        ("GET", f"{USERS}/{target['id']}", None),
        ("PATCH", f"{USERS}/{target['id']}", {"role": "admin"}),
        ("DELETE", f"{USERS}/{target['id']}", None),
        ("GET", "/v1/admin/audit-events", None),
        ("GET", "/v1/admin/stats", None),
        ("GET", "/v1/admin/clients", None),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=headers)
        assert_error(response, 403, "forbidden")
    # One row per route family within PROVIDER_AUDIT_REFUSAL_INTERVAL: the first attempt on it.
    rows = await AuditEvent.filter(event="admin.forbidden").order_by("id")
    assert {row.outcome for row in rows} == {"failure"}
    assert {str(row.user_id) for row in rows} == {user["id"]}
    assert [(row.details["method"], row.details["path"]) for row in rows] == [
        ("GET", USERS),
        ("GET", "/v1/admin/audit-events"),
        ("GET", "/v1/admin/stats"),
        ("GET", "/v1/admin/clients"),
    ]
    assert {row.details["suppressed"] for row in rows} == {0}
    assert (await User.get(id=target["id"])).role == "user"
    assert (await User.get(id=target["id"])).deleted_at is None


async def test_an_auditor_reads_but_cannot_write(client: httpx.AsyncClient) -> None:
    headers = await auditor(client)
    target = await account(client, "bob@example.com")
    for path in (
        USERS,
        f"{USERS}/{target['id']}",
        "/v1/admin/audit-events",
        "/v1/admin/audit-events.csv",
        "/v1/admin/stats",
        "/v1/admin/clients",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
    writes = [
        ("PATCH", f"{USERS}/{target['id']}", {"locked": True}),
        ("POST", f"{USERS}/{target['id']}/revoke-sessions", None),
        ("POST", f"{USERS}/{target['id']}/force-password-reset", None),
        ("DELETE", f"{USERS}/{target['id']}", None),
        ("POST", f"{USERS}/{target['id']}/restore", None),
        ("POST", "/v1/admin/clients", {"name": "x", "grant_types": ["client_credentials"]}),
    ]
    for method, path, body in writes:
        assert_error(await client.request(method, path, json=body, headers=headers), 403)
    # Users and clients: one row per route family within PROVIDER_AUDIT_REFUSAL_INTERVAL.
    assert await AuditEvent.filter(event="admin.forbidden").count() == 2
    unchanged = await User.get(id=target["id"])
    assert unchanged.locked_until is None
    assert unchanged.deleted_at is None


async def test_a_demoted_admin_loses_access_at_once(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    other, other_headers = await signed_in(client, "second@example.com", "admin")
    assert (await client.get(USERS, headers=other_headers)).status_code == 200
    response = await client.patch(f"{USERS}/{other['id']}", json={"role": "user"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["role"] == "user"
    assert_error(await client.get(USERS, headers=other_headers), 403, "forbidden")


# --- listing -------------------------------------------------------------------------------------


async def test_pages_cover_every_user_once_in_a_stable_order(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    for index in range(7):
        await account(client, f"user{index}@example.com")
    newest_first = await _all_pages(client, headers, limit="3")
    emails = [user["email"] for user in newest_first]
    assert len(emails) == 8
    assert len(set(emails)) == 8
    created = [user["created_at"] for user in newest_first]
    assert created == sorted(created, reverse=True)
    oldest_first = await _all_pages(client, headers, limit="2", sort="created_at")
    assert [user["id"] for user in oldest_first] == [user["id"] for user in reversed(newest_first)]
    by_email = await _all_pages(client, headers, limit="5", sort="email")
    assert [user["email"] for user in by_email] == sorted(emails)


async def test_a_page_is_not_shifted_by_users_created_meanwhile(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    for index in range(4):
        await account(client, f"old{index}@example.com")
    first = await _list(client, headers, limit="2", sort="created_at")
    await account(client, "new@example.com")
    rest = await _all_pages(
        client, headers, limit="2", sort="created_at", cursor=first["next_cursor"]
    )
    emails = [user["email"] for user in first["users"] + rest]
    assert emails[:5] == ["root@example.com"] + [f"old{i}@example.com" for i in range(4)]
    assert emails[-1] == "new@example.com"
    assert len(emails) == len(set(emails)) == 6


async def test_search_matches_email_username_and_name_case_insensitively(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    await account(client, "grace@example.com", name="Grace Hopper", username="ghopper")
    await account(client, "ada@example.org", name="Ada Lovelace", username="countess")
    await account(client, "x100%@example.com", name="Percent")

    async def emails(q: str) -> set[str]:
        return {user["email"] for user in (await _list(client, headers, q=q))["users"]}

    assert await emails("HOPPER") == {"grace@example.com"}
    assert await emails("Count") == {"ada@example.org"}
    assert await emails("example.org") == {"ada@example.org"}
    assert await emails("100%") == {"x100%@example.com"}
    assert await emails("%") == {"x100%@example.com"}  # a literal, not a wildcard
    assert await emails("nobody") == set()


async def test_filters_by_role_status_and_creation_time(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    before = utcnow()
    await account(client, "verified@example.com")
    await User.filter(email="verified@example.com").update(email_verified_at=utcnow())
    await account(client, "plain@example.com")
    locked = await account(client, "locked@example.com")
    await User.filter(id=locked["id"]).update(locked_until=utcnow() + timedelta(hours=1))
    expired_lock = await account(client, "was-locked@example.com")
    await User.filter(id=expired_lock["id"]).update(locked_until=utcnow() - timedelta(hours=1))
    deleted = await account(client, "gone@example.com", role="auditor")
    await User.filter(id=deleted["id"]).update(deleted_at=utcnow())
    await User.filter(email="root@example.com").update(
        email_verified_at=utcnow(), created_at=before - timedelta(days=3)
    )

    async def emails(**params: str) -> set[str]:
        return {user["email"] for user in (await _list(client, headers, **params))["users"]}

    assert await emails(status="locked") == {"locked@example.com"}
    assert await emails(status="deleted") == {"gone@example.com"}
    assert await emails(status="active") == {"verified@example.com", "root@example.com"}
    assert await emails(status="unverified") == {"plain@example.com", "was-locked@example.com"}
    assert await emails(role="auditor") == {"gone@example.com"}
    assert await emails(role="admin") == {"root@example.com"}
    assert "root@example.com" not in await emails(created_from=before.isoformat())
    assert await emails(created_to=(before - timedelta(days=1)).isoformat()) == {"root@example.com"}
    day = (before - timedelta(days=3)).date().isoformat()
    assert await emails(created_from=day, created_to=day) == {"root@example.com"}
    found = (await _list(client, headers, q="locked@"))["users"]
    listed = next(user for user in found if user["email"] == "locked@example.com")
    assert listed["status"] == "locked"
    assert listed["locked"] is True


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=ten",
        "limit=-1",
        "sort=name",
        "status=sleeping",
        "role=root",
        "created_from=yesterday",
        "created_to=2024-13-01",
        "cursor=not-a-cursor",
        "cursor=e30",
        "cursor=eyJrIjoidXNlcnM6ZW1haWwiLCJwIjpbMSwyXX0",
        "unknown=1",
        "q=a&q=b",
        "q=%00",
    ],
)
async def test_bad_list_parameters_are_400(client: httpx.AsyncClient, query: str) -> None:
    headers = await admin(client)
    response = await client.get(f"{USERS}?{query}", headers=headers)
    assert response.status_code == 400, response.text
    assert_error(response, 400)


async def test_a_cursor_of_another_sort_is_refused(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    for index in range(3):
        await account(client, f"user{index}@example.com")
    cursor = (await _list(client, headers, limit="1", sort="email"))["next_cursor"]
    assert cursor
    response = await client.get(USERS, params={"cursor": cursor}, headers=headers)
    assert_error(response, 400, "invalid_cursor")


# --- one user ------------------------------------------------------------------------------------


async def test_the_account_view_has_sessions_mfa_and_last_logins(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    user = await register(client, email="bob@example.com")
    first = await login(client, "bob@example.com", **{"User-Agent": "first-device"})
    await login(client, "bob@example.com", **{"User-Agent": "second-device"})
    await client.post("/v1/auth/logout", headers=bearer(first))
    response = await client.get(f"{USERS}/{user['id']}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == "bob@example.com"
    assert "password_hash" not in body["user"]
    assert body["mfa"] == {
        "totp_enabled": False,
        "totp_enabled_at": None,
        "backup_codes_left": 0,
        "enrolment_pending": False,
    }
    sessions = body["sessions"]
    assert [s["user_agent"] for s in sessions] == ["second-device", "first-device"]
    assert [s["live"] for s in sessions] == [True, False]
    assert sessions[1]["revoked_reason"] == "logout"
    logins = body["last_logins"]
    assert [entry["user_agent"] for entry in logins] == ["second-device", "first-device"]
    assert {entry["ip"] for entry in logins} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("path", "status"),
    [("not-a-uuid", 400), ("12345678-1234-5678-1234-56781234567", 400), (str(uuid.uuid4()), 404)],
)
async def test_bad_or_unknown_ids(client: httpx.AsyncClient, path: str, status: int) -> None:
    headers = await admin(client)
    for method in ("GET", "PATCH", "DELETE"):
        body = {"role": "user"} if method == "PATCH" else None
        response = await client.request(method, f"{USERS}/{path}", json=body, headers=headers)
        assert_error(response, status)
    response = await client.post(f"{USERS}/{path}/restore", headers=headers)
    assert_error(response, status)


# --- changes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"role": "root"},
        {"role": None, "extra": 1},
        {"locked": "yes"},
        {"locked": 1},
        {"email_verified": "true"},
        {"lock_seconds": 60},
        {"locked": False, "lock_seconds": 60},
        {"locked": True, "lock_seconds": 0},
        {"password_hash": "x"},
        [],
    ],
)
async def test_patch_bodies_are_strict(client: httpx.AsyncClient, body: Any) -> None:
    headers = await admin(client)
    user = await account(client, "bob@example.com")
    response = await client.patch(f"{USERS}/{user['id']}", json=body, headers=headers)
    assert_error(response, 400)
    assert await AuditEvent.filter(event__startswith="admin.").count() == 0


async def test_patch_needs_json(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    user = await account(client, "bob@example.com")
    response = await client.patch(
        f"{USERS}/{user['id']}", content=b"role=admin", headers={**headers}
    )
    assert response.status_code in (400, 415)


async def test_role_and_verification_changes_are_audited(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    root = await User.get(email="root@example.com")
    user = await account(client, "bob@example.com")
    response = await client.patch(
        f"{USERS}/{user['id']}", json={"role": "auditor", "email_verified": True}, headers=headers
    )
    assert response.status_code == 200, response.text
    view = response.json()["user"]
    assert view["role"] == "auditor"
    assert view["email_verified"] is True
    stored = await User.get(id=user["id"])
    assert stored.role == "auditor"
    assert stored.email_verified_at is not None
    rows = await AuditEvent.filter(event="admin.user_updated").order_by("id")
    assert [row.details["changes"] for row in rows] == [
        {"role": {"from": "user", "to": "auditor"}},
        {"email_verified": True},
    ]
    assert {str(row.user_id) for row in rows} == {user["id"]}
    assert {row.details["admin_id"] for row in rows} == {str(root.id)}
    # The same values again change nothing and write nothing.
    again = await client.patch(
        f"{USERS}/{user['id']}", json={"role": "auditor", "email_verified": True}, headers=headers
    )
    assert again.status_code == 200
    assert await AuditEvent.filter(event="admin.user_updated").count() == 2


async def test_lock_ends_sessions_and_refuses_login_until_unlocked(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    user = await register(client, email="bob@example.com")
    tokens = await login(client, "bob@example.com")
    response = await client.patch(f"{USERS}/{user['id']}", json={"locked": True}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["status"] == "locked"
    assert_error(await client.get("/v1/auth/me", headers=bearer(tokens)), 401)
    refresh = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401
    locked = await client.post(
        "/v1/auth/sessions", json={"identifier": "bob@example.com", "password": PASSWORD}
    )
    assert_error(locked, 423, "account_locked")
    stored = await User.get(id=user["id"])
    assert stored.locked_until is not None
    assert stored.locked_until - utcnow() > timedelta(days=365 * 50)
    row = await AuditEvent.get(event="admin.user_locked")
    assert str(row.user_id) == user["id"]
    assert row.details["indefinite"] is True
    assert row.details["sessions_revoked"] == 1

    response = await client.patch(f"{USERS}/{user['id']}", json={"locked": False}, headers=headers)
    assert response.status_code == 200
    assert response.json()["user"]["locked"] is False
    assert (await AuditEvent.filter(event="admin.user_unlocked").count()) == 1
    await login(client, "bob@example.com")


async def test_a_lock_can_have_a_duration(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    user = await account(client, "bob@example.com")
    response = await client.patch(
        f"{USERS}/{user['id']}", json={"locked": True, "lock_seconds": 120}, headers=headers
    )
    assert response.status_code == 200, response.text
    until = (await User.get(id=user["id"])).locked_until
    assert until is not None
    assert timedelta(seconds=100) < until - utcnow() <= timedelta(seconds=121)


async def test_an_admin_cannot_lock_delete_or_demote_themselves(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    me = await User.get(email="root@example.com")
    path = f"{USERS}/{me.id}"
    for body in ({"role": "user"}, {"locked": True}):
        assert_error(await client.patch(path, json=body, headers=headers), 409, "own_account")
    assert_error(await client.delete(path, headers=headers), 409, "own_account")
    assert_error(
        await client.post(f"{path}/force-password-reset", headers=headers), 409, "own_account"
    )
    assert (await client.get(USERS, headers=headers)).status_code == 200


# --- actions -------------------------------------------------------------------------------------


async def test_revoke_sessions_ends_every_session_at_once(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    user = await register(client, email="bob@example.com")
    laptop = await login(client, "bob@example.com")
    phone = await login(client, "bob@example.com")
    response = await client.post(f"{USERS}/{user['id']}/revoke-sessions", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": 2}
    for tokens in (laptop, phone):
        assert_error(await client.get("/v1/auth/me", headers=bearer(tokens)), 401)
    assert await Session.filter(user_id=user["id"], revoked_at=None).count() == 0
    assert await RefreshToken.filter(user_id=user["id"], revoked_at=None).count() == 0
    row = await AuditEvent.get(event="admin.sessions_revoked")
    assert row.details["count"] == 2
    assert str(row.user_id) == user["id"]
    # The admin's own session is untouched.
    assert (await client.get(USERS, headers=headers)).status_code == 200


async def test_actions_refuse_a_body_with_fields(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    user = await account(client, "bob@example.com")
    response = await client.post(
        f"{USERS}/{user['id']}/revoke-sessions", json={"all": True}, headers=headers
    )
    assert_error(response, 400)
    response = await client.post(f"{USERS}/{user['id']}/revoke-sessions", json={}, headers=headers)
    assert response.status_code == 200


async def test_force_password_reset(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    user = await register(client, email="bob@example.com")
    tokens = await login(client, "bob@example.com")
    response = await client.post(f"{USERS}/{user['id']}/force-password-reset", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["revoked"] == 1
    assert_error(await client.get("/v1/auth/me", headers=bearer(tokens)), 401)
    refused = await client.post(
        "/v1/auth/sessions", json={"identifier": "bob@example.com", "password": PASSWORD}
    )
    assert_error(refused, 401, "invalid_credentials")
    assert (await User.get(id=user["id"])).password_hash == UNUSABLE_PASSWORD
    assert await AuditEvent.filter(event="admin.password_reset_forced", user_id=user["id"]).exists()
    # The reset link is on its way (the mail itself is the password-reset service's business).
    assert await AuditEvent.filter(event="password.reset_requested", user_id=user["id"]).exists()
    detail = (await client.get(f"{USERS}/{user['id']}", headers=headers)).json()
    assert detail["user"]["password_reset_required"] is True


async def test_delete_stops_live_tokens_and_logins_and_restore_undoes_it(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    root = await User.get(email="root@example.com")
    user = await register(client, email="bob@example.com")
    tokens = await login(client, "bob@example.com")
    assert (await client.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200

    response = await client.delete(f"{USERS}/{user['id']}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": True, "revoked": 1}
    assert_error(await client.get("/v1/auth/me", headers=bearer(tokens)), 401)
    refused = await client.post(
        "/v1/auth/sessions", json={"identifier": "bob@example.com", "password": PASSWORD}
    )
    assert refused.status_code in (401, 403)
    assert (await User.get(id=user["id"])).deleted_at is not None
    assert_error(await client.delete(f"{USERS}/{user['id']}", headers=headers), 409)
    deleted = await AuditEvent.get(event="admin.user_deleted")
    assert str(deleted.user_id) == user["id"]
    assert deleted.details["admin_id"] == str(root.id)
    # Revoking the sessions was audited by the same request, in the same transaction.
    bulk = await AuditEvent.get(event="sessions.bulk_revoked", user_id=user["id"])
    assert bulk.request_id == deleted.request_id

    restored = await client.post(f"{USERS}/{user['id']}/restore", headers=headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["user"]["deleted"] is False
    assert await AuditEvent.filter(event="admin.user_restored", user_id=user["id"]).exists()
    await login(client, "bob@example.com")
    assert_error(await client.post(f"{USERS}/{user['id']}/restore", headers=headers), 409)


async def test_concurrent_deletes_write_one_audit_row(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    user = await account(client, "bob@example.com")
    responses = await asyncio.gather(
        *(client.delete(f"{USERS}/{user['id']}", headers=headers) for _ in range(3))
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    assert await AuditEvent.filter(event="admin.user_deleted").count() == 1
