"""Delete my account: re-authentication, a soft delete with a grace period in which the password
restores it, then a purge that erases the person and keeps only anonymised audit rows; and
export my data."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from provider.accounts.account_deletion import purge_deleted_accounts
from provider.cache.events import EventPublisher
from provider.cache.memory import MemoryCache
from provider.storage.models import AuditEvent, Consent, Session, User
from provider.storage.unit_of_work import utcnow
from tests.admin_support import account
from tests.hosted import get, post_form, sign_in_for
from tests.oidc import Browser, register_client, sign_in_for_tokens
from tests.support import PASSWORD, Server, assert_error, bearer, login, register

EMAIL = "ada@example.com"


async def _delete(
    http: httpx.AsyncClient, tokens: dict[str, object], password: str | None = PASSWORD
) -> httpx.Response:
    body = {} if password is None else {"current_password": password}
    return await http.post("/v1/auth/me/delete", json=body, headers=bearer(tokens))


async def _restore(http: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await http.post(
        "/v1/auth/account/restore", json={"identifier": EMAIL, "password": password}
    )


async def test_a_deleted_account_can_be_restored_during_the_grace_period(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    tokens = await login(client)
    other = await login(client)
    response = await _delete(client, tokens)
    assert response.status_code == 200, response.text
    stored = await User.get(id=user["id"])
    assert stored.deleted_at is not None
    assert stored.purge_after is not None
    grace = stored.purge_after - stored.deleted_at
    assert grace == timedelta(days=30)
    assert response.json() == {"deleted": True, "purge_after": stored.purge_after.isoformat()}
    assert await Session.filter(user_id=user["id"], revoked_at=None).count() == 0
    for session_tokens in (tokens, other):
        assert_error(await client.get("/v1/auth/me", headers=bearer(session_tokens)), 401)
    refused = await client.post(
        "/v1/auth/sessions", json={"identifier": EMAIL, "password": PASSWORD}
    )
    assert_error(refused, 403, "account_disabled")
    assert await AuditEvent.exists(event="user.deleted", user_id=user["id"])

    assert_error(await _restore(client, "wrong password!!"), 401, "invalid_credentials")
    restored = await _restore(client)
    assert restored.status_code == 200, restored.text
    assert restored.json()["user"]["id"] == user["id"]
    stored = await User.get(id=user["id"])
    assert (stored.deleted_at, stored.purge_after) == (None, None)
    assert await AuditEvent.exists(event="user.restored", user_id=user["id"])
    await login(client)
    assert_error(await _restore(client), 409, "not_deleted")


async def test_deleting_needs_the_password_or_a_recent_sign_in(client: httpx.AsyncClient) -> None:
    user = await register(client)
    tokens = await login(client)
    assert_error(await _delete(client, tokens, "not the password"), 403, "invalid_password")
    await Session.filter(user_id=user["id"]).update(auth_time=utcnow() - timedelta(days=1))
    assert_error(await _delete(client, tokens, None), 403, "reauthentication_required")
    stored = await User.get(id=user["id"])
    assert stored.deleted_at is None
    assert await Session.filter(user_id=user["id"], revoked_at=None).count() == 1
    assert not await AuditEvent.exists(event="user.deleted")
    assert await AuditEvent.filter(event="user.delete_failed").count() == 1


async def test_the_last_administrator_cannot_delete_their_account(
    client: httpx.AsyncClient,
) -> None:
    root = await account(client, "root@example.com", "admin")
    tokens = await login(client, "root@example.com")
    assert_error(await _delete(client, tokens), 409, "last_admin")
    assert (await User.get(id=root["id"])).deleted_at is None
    assert (await client.get("/v1/auth/me", headers=bearer(tokens))).status_code == 200
    await account(client, "second@example.com", "admin")
    assert (await _delete(client, tokens)).status_code == 200


async def test_after_the_grace_period_the_account_is_erased(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client, username="ada")
    await register(client, email="grace@example.com")
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
    tokens = await login(client)
    assert (await _delete(client, tokens)).status_code == 200
    await User.filter(id=user["id"]).update(purge_after=utcnow() - timedelta(seconds=1))
    assert_error(await _restore(client), 409, "not_deleted")

    assert await purge_deleted_accounts(EventPublisher(MemoryCache())) == 1

    assert not await User.exists(id=user["id"])
    assert not await Session.exists(user_id=user["id"])
    assert not await Consent.exists(user_id=user["id"])
    rows = await AuditEvent.filter(user_id=user["id"]).exclude(event="user.purged")
    assert rows
    assert {(row.ip, row.user_agent) for row in rows} == {("", "")}
    assert all(row.details == {} for row in rows)
    assert await AuditEvent.exists(event="user.purged", user_id=user["id"])
    assert await User.exists(email="grace@example.com")
    assert await purge_deleted_accounts(EventPublisher(MemoryCache())) == 0
    # The address is free again.
    assert (await register(client))["email"] == EMAIL


async def test_an_account_an_admin_deleted_is_not_purged_nor_self_restored(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    await User.filter(id=user["id"]).update(deleted_at=utcnow() - timedelta(days=90))
    assert_error(await _restore(client), 409, "not_deleted")
    assert await purge_deleted_accounts(EventPublisher(MemoryCache())) == 0
    assert await User.exists(id=user["id"])


async def test_export_my_data(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client)
    rp = await register_client(name="Notes")
    async with Browser.open(server.url) as browser:
        await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
    tokens = await login(client)
    response = await client.get("/v1/auth/me/export", headers=bearer(tokens))
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="my-account.json"'
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert document["user"]["id"] == user["id"]
    assert document["profile"]["name"] == "Ada"
    assert len(document["sessions"]) == 2
    assert [c["client_id"] for c in document["consents"]] == [rp.client_id]
    events = {row["event"] for row in document["audit"]}
    assert {"user.registered", "user.login", "consent.granted"} <= events
    assert "password_hash" not in json.dumps(document)
    assert_error(await client.get("/v1/auth/me/export"), 401)


async def test_the_pages_delete_restore_and_export(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        exported = await browser.http.get("/account/export")
        assert exported.status_code == 200
        assert exported.json()["user"]["id"] == user["id"]
        form = await get(browser, "/account/delete")
        wrong = await post_form(browser, "/account/delete", form, current_password="nope nope")
        assert wrong.status_code == 403
        assert (await User.get(id=user["id"])).deleted_at is None
        done = await post_form(browser, "/account/delete", form, current_password=PASSWORD)
        assert done.status_code == 200
        assert "Your account is deleted" in done.text
        assert (await User.get(id=user["id"])).deleted_at is not None
        gate = await browser.http.get("/account")
        assert gate.status_code == 303

        login_page = await browser.http.get("/login", params={"next": "/account"})
        refused = await post_form(
            browser, "/login", login_page, identifier=EMAIL, password=PASSWORD
        )
        assert refused.status_code == 403
        assert 'id="restore-link"' in refused.text
        restore_page = await get(browser, "/account/restore", next="/account")
        restored = await post_form(
            browser, "/account/restore", restore_page, identifier=EMAIL, password=PASSWORD
        )
        assert restored.status_code == 200
        assert "Your account is restored" in restored.text
        assert (await User.get(id=user["id"])).deleted_at is None
        page = await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        assert page.status_code == 200
        assert browser.pages[-1] == "/account"
