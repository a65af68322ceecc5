"""An administrator resets the second factor of a user who lost it (API and admin page), and the
password-reset mail says that only an administrator can."""

from __future__ import annotations

from typing import Any

import httpx

from provider.storage.models import AuditEvent, BackupCode, RefreshToken, Session, User
from tests.admin_support import admin
from tests.integration.conftest import Mailbox, html_part, text_part
from tests.oidc import csrf_of, hidden_fields
from tests.support import (
    PASSWORD,
    EventCollector,
    Server,
    assert_error,
    bearer,
    login,
    register,
)
from tests.totp import enrol_totp

USERS = "/v1/admin/users"
MAIL_SUBJECT = "An administrator reset your two-factor authentication"


async def _mfa_user(http: httpx.AsyncClient, email: str = "bob@example.com") -> dict[str, Any]:
    user = await register(http, email=email)
    await enrol_totp(http, await login(http, email))
    return user


async def _assert_reset(user_id: str, admin_id: str) -> None:
    row = await User.get(id=user_id)
    assert row.totp_secret is None
    assert row.totp_enabled_at is None
    assert row.totp_pending_secret is None
    assert await BackupCode.filter(user_id=user_id).count() == 0
    assert await Session.filter(user_id=user_id, revoked_at=None).count() == 0
    assert await RefreshToken.filter(user_id=user_id, revoked_at=None).count() == 0
    audit = await AuditEvent.get(event="admin.mfa_reset")
    assert str(audit.user_id) == user_id
    assert audit.details["admin_id"] == admin_id


async def test_an_admin_resets_a_users_mfa_through_the_api(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        headers = await admin(http)
        root = await User.get(email="root@example.com")
        user = await _mfa_user(http)
        signed_in = await http.post(
            "/v1/auth/sessions", json={"identifier": "bob@example.com", "password": PASSWORD}
        )
        assert signed_in.json()["mfa_required"] is True
        mailbox.clear()
        response = await http.post(f"{USERS}/{user['id']}/reset-mfa", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"mfa_enabled": False, "revoked": 1}
        await _assert_reset(user["id"], str(root.id))
        mail = await mailbox.wait_for("bob@example.com", MAIL_SUBJECT)
        assert "reset the two-factor authentication" in text_part(mail)
        assert "reset the two-factor authentication" in html_part(mail)
        # The password alone signs in now; the user can enrol a new factor.
        tokens = await login(http, "bob@example.com")
        assert "access_token" in tokens
        again = await http.post(f"{USERS}/{user['id']}/reset-mfa", headers=headers)
        assert_error(again, 409, "mfa_not_enabled")
        detail = (await http.get(f"{USERS}/{user['id']}", headers=headers)).json()
        assert detail["user"]["mfa_enabled"] is False


async def test_an_admin_cannot_reset_their_own_mfa_and_others_cannot_at_all(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    root = await User.get(email="root@example.com")
    await enrol_totp(client, {"access_token": headers["Authorization"].split(" ", 1)[1]})
    own = await client.post(f"{USERS}/{root.id}/reset-mfa", headers=headers)
    assert_error(own, 409, "own_account")
    assert (await User.get(id=root.id)).totp_enabled_at is not None
    user = await _mfa_user(client)
    plain = bearer(await _plain(client))
    refused = await client.post(f"{USERS}/{user['id']}/reset-mfa", headers=plain)
    assert_error(refused, 403, "forbidden")
    assert (await User.get(id=user["id"])).totp_enabled_at is not None
    assert not await AuditEvent.filter(event="admin.mfa_reset").exists()


async def _plain(http: httpx.AsyncClient) -> dict[str, Any]:
    await register(http, email="carol@example.com")
    return await login(http, "carol@example.com")


async def test_the_reset_is_published_as_an_event(
    events_server: Server, events_redis_url: str
) -> None:
    async with httpx.AsyncClient(base_url=events_server.url, timeout=30) as http:
        headers = await admin(http)
        user = await _mfa_user(http)
        async with EventCollector(events_redis_url) as events:
            response = await http.post(f"{USERS}/{user['id']}/reset-mfa", headers=headers)
            assert response.status_code == 200, response.text
            payload = await events.wait_for("auth:admin.mfa_reset", user_id=user["id"])
    assert payload["event"] == "admin.mfa_reset"
    assert payload["audit_id"] == (await AuditEvent.get(event="admin.mfa_reset")).id


async def test_the_admin_page_has_a_reset_button(server: Server, client: httpx.AsyncClient) -> None:
    await admin(client)
    root = await User.get(email="root@example.com")
    user = await _mfa_user(client)
    page = await client.get("/login", params={"next": "/admin"})
    form = {**hidden_fields(page.text), "identifier": "root@example.com", "password": PASSWORD}
    assert (await client.post("/login", data=form)).status_code == 303
    detail = await client.get(f"/admin/users/{user['id']}")
    assert 'id="action-reset-mfa"' in detail.text
    csrf = csrf_of(detail.text)
    # CSRF like every admin form: without the token nothing changes.
    forged = await client.post(f"/admin/users/{user['id']}/reset-mfa", data={})
    assert forged.status_code in (400, 403)
    assert (await User.get(id=user["id"])).totp_enabled_at is not None
    done = await client.post(f"/admin/users/{user['id']}/reset-mfa", data={"csrf": csrf})
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/users/{user['id']}?done=reset-mfa"
    await _assert_reset(user["id"], str(root.id))
    after = await client.get(done.headers["location"])
    assert "Two-factor authentication removed" in after.text
    assert 'id="action-reset-mfa"' not in after.text


async def test_the_reset_mail_of_an_mfa_user_points_to_an_administrator(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        await _mfa_user(http, "bob@example.com")
        await register(http, email="carol@example.com")
        mailbox.clear()
        for email in ("bob@example.com", "carol@example.com"):
            answer = await http.post("/v1/auth/password/forgot", json={"email": email})
            assert answer.status_code == 202, answer.text
        with_mfa = await mailbox.wait_for("bob@example.com", "Reset your password")
        without = await mailbox.wait_for("carol@example.com", "Reset your password")
    for part in (text_part(with_mfa), html_part(with_mfa)):
        assert "does not turn off two-factor authentication" in part
        assert "contact an administrator" in part
    for part in (text_part(without), html_part(without)):
        assert "two-factor" not in part
