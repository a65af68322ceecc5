"""Connected apps and devices: GET/DELETE /v1/auth/consents, /account/apps and /account/devices.

Removing an app's access deletes the consent, revokes the refresh tokens it holds for the user
(its refresh then fails) and refuses its current access tokens at our endpoints.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, Consent, RefreshToken, Session
from tests.geoip import write_city_database
from tests.hosted import get, post_form, sign_in_for
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    csrf_of,
    is_consent_page,
    refresh,
    register_client,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, assert_error, bearer, login, register

EMAIL = "ada@example.com"
SCOPE = "openid profile offline_access"


async def _connect(server: Server, rp: RegisteredClient, email: str = EMAIL) -> dict[str, Any]:
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, email, PASSWORD, scope=SCOPE)
    return body


async def _consents(client: httpx.AsyncClient, tokens: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get("/v1/auth/consents", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    consents: list[dict[str, Any]] = response.json()["consents"]
    return consents


async def test_consents_list_the_apps_with_scopes_and_use(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    tokens = await login(client)
    assert await _consents(client, tokens) == []
    notes = await register_client(name="Notes")
    rp_tokens = await _connect(server, notes)
    assert (await refresh(client, notes, rp_tokens["refresh_token"])).status_code == 200

    [app] = await _consents(client, tokens)

    consent = await Consent.get(client_id=notes.client_id)
    used = await AuditEvent.filter(client_id=notes.client_id, event="token.refreshed").first()
    assert used is not None
    assert app == {
        "client_id": notes.client_id,
        "client_name": "Notes",
        "scopes": SCOPE.split(),
        "granted_at": consent.created_at.isoformat(),
        "last_used_at": used.created_at.isoformat(),
    }


async def test_removing_access_revokes_the_apps_tokens_and_consent(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    await register(client, email="grace@example.com")
    tokens = await login(client)
    notes, photos = await register_client(name="Notes"), await register_client(name="Photos")
    removed = await _connect(server, notes)
    kept = await _connect(server, photos)
    graces = await _connect(server, notes, "grace@example.com")

    response = await client.delete(f"/v1/auth/consents/{notes.client_id}", headers=bearer(tokens))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "removed": True,
        "client_id": notes.client_id,
        "revoked_refresh_tokens": 1,
    }
    assert not await Consent.exists(user_id=user["id"], client_id=notes.client_id)
    rows = await RefreshToken.filter(user_id=user["id"], client_id=notes.client_id)
    assert [row.revoked_reason for row in rows] == ["access_removed"]
    refused = await refresh(client, notes, removed["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    userinfo = await client.get("/userinfo", headers=bearer(removed["access_token"]))
    assert userinfo.status_code == 401
    introspected = await client.post(
        "/introspect", data={"token": removed["access_token"]}, auth=notes.basic()
    )
    assert introspected.json() == {"active": False}
    audit = await AuditEvent.get(event="consent.revoked")
    assert (str(audit.user_id), audit.client_id) == (user["id"], notes.client_id)
    assert audit.details == {"revoked_refresh_tokens": 1}
    # Another app of the user, and the same app for another user, keep their access.
    assert (await refresh(client, photos, kept["refresh_token"])).status_code == 200
    assert (await refresh(client, notes, graces["refresh_token"])).status_code == 200
    assert (await client.get("/userinfo", headers=bearer(kept["access_token"]))).is_success
    assert [app["client_id"] for app in await _consents(client, tokens)] == [photos.client_id]
    # The next authorization asks for consent again.
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(notes, scope=SCOPE))
        page = await browser.submit_login(page, EMAIL, PASSWORD)
        assert is_consent_page(page)


async def test_removing_an_app_never_connected_is_not_found(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    await register(client, email="grace@example.com")
    tokens = await login(client)
    notes = await register_client(name="Notes")
    graces = await _connect(server, notes, "grace@example.com")
    for client_id in (notes.client_id, "no-such-client"):
        response = await client.delete(f"/v1/auth/consents/{client_id}", headers=bearer(tokens))
        assert_error(response, 404, "not_found")
    assert await Consent.all().count() == 1
    assert await RefreshToken.filter(revoked_at__isnull=False).count() == 0
    assert not await AuditEvent.exists(event="consent.revoked")
    assert (await refresh(client, notes, graces["refresh_token"])).status_code == 200


async def test_consents_need_a_first_party_session(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp_tokens = await _connect(server, await register_client())
    assert_error(await client.get("/v1/auth/consents"), 401, "unauthorized")
    third_party = await client.get("/v1/auth/consents", headers=bearer(rp_tokens))
    assert_error(third_party, 401, "invalid_token")


async def test_the_apps_page_removes_an_apps_access(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    notes = await register_client(name="Notes")
    rp_tokens = await _connect(server, notes)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        page = await get(browser, "/account/apps")
        assert page.status_code == 200
        assert f'id="app-{notes.client_id}"' in page.text
        assert "Notes" in page.text
        assert 'data-scope="offline_access"' in page.text
        gone = await browser.http.post(
            "/account/apps/remove",
            data={"csrf": csrf_of(page.text), "client_id": "no-such-client"},
        )
        assert gone.status_code == 404
        assert await Consent.exists(client_id=notes.client_id)
        done = await browser.follow(
            await browser.http.post(
                "/account/apps/remove",
                data={"csrf": csrf_of(page.text), "client_id": notes.client_id},
            )
        )
        assert done.status_code == 200
        assert "The app&#39;s access is removed." in done.text
        assert 'id="no-apps"' in done.text
    assert not await Consent.exists(client_id=notes.client_id)
    assert (await refresh(client, notes, rp_tokens["refresh_token"])).status_code == 400


async def test_the_devices_page_signs_out_one_device_or_all_others(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    phone = await login(client, **{"User-Agent": "curl/8.5.0"})
    tablet = await login(client)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        page = await get(browser, "/account/devices")
        assert page.status_code == 200
        assert page.text.count('class="device"') == 3
        assert page.text.count('data-current="true"') == 1
        assert ">curl<" in page.text
        assert "device-location" not in page.text  # no PROVIDER_GEOIP_DATABASE
        done = await post_form(
            browser, "/account/devices/sign-out", page, session_id=phone["session"]["id"]
        )
        assert done.status_code == 200
        assert "That device is signed out." in done.text
        assert done.text.count('class="device"') == 2
        assert_error(await client.get("/v1/auth/me", headers=bearer(phone)), 401)
        assert (await client.get("/v1/auth/me", headers=bearer(tablet))).status_code == 200
        again = await browser.http.post(
            "/account/devices/sign-out",
            data={"csrf": csrf_of(page.text), "session_id": phone["session"]["id"]},
        )
        assert again.status_code == 404

        done = await post_form(browser, "/account/devices/sign-out-others", done)
        assert "Every other device is signed out." in done.text
        assert done.text.count('class="device"') == 1
        assert_error(await client.get("/v1/auth/me", headers=bearer(tablet)), 401)
        assert (await get(browser, "/account")).status_code == 200
    live = await Session.filter(revoked_at=None).count()
    assert live == 1


async def test_devices_say_where_they_are_from_a_configured_ip_database(
    server_with, tmp_path_factory: pytest.TempPathFactory
) -> None:  # type: ignore[no-untyped-def]
    database = write_city_database(tmp_path_factory.mktemp("geoip") / "cities.mmdb")
    server: Server = await server_with(geoip_database=str(database))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await register(client)
        tokens = await login(client)
        listed = await client.get("/v1/auth/sessions", headers=bearer(tokens))
        assert [s["location"] for s in listed.json()["sessions"]] == [
            "London, England, United Kingdom"
        ]
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        page = await get(browser, "/account/devices")
        assert (
            page.text.count('<dd class="device-location">London, England, United Kingdom</dd>') == 2
        )
        # A German page names the places in German where the database can.
        german = await browser.http.get("/account/devices", headers={"Accept-Language": "de"})
        assert "London (de), England (de), United Kingdom (de)" in german.text
