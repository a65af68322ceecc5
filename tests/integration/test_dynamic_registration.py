"""Dynamic client registration (RFC 7591) and management (RFC 7592): initial access tokens, the
registration policy and its error codes, the per-address limit, and the registration access
token that reads, replaces and deletes a registration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from provider.crypto.tokens import new_token, token_hash
from provider.storage.db import default_connection
from provider.storage.initial_access_tokens import InitialAccessTokens
from provider.storage.models import AuditEvent, Client
from provider.storage.unit_of_work import utcnow
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    pkce_pair,
    redeem_code,
    redirect_query,
    sign_in_and_get_code,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, register

OPEN = {"registration_open": "true", "ratelimit_registration_per_ip": "1000"}
NATIVE: dict[str, Any] = {
    "client_name": "Native CLI",
    "redirect_uris": ["http://127.0.0.1/callback"],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "scope": "openid profile",
}


async def _initial_token(uses: int = 1, ttl: int = 600) -> str:
    token = new_token()
    now = utcnow()
    await InitialAccessTokens(default_connection()).add(
        token_hash(token),
        uses=uses,
        expires_at=now + timedelta(seconds=ttl),
        note="test",
        created_by="test",
        now=now,
    )
    return token


async def _register(
    http: httpx.AsyncClient, metadata: dict[str, Any], token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/oauth/clients", json=metadata, headers=headers)


def _refused(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    assert response.headers["cache-control"] == "no-store"


async def test_discovery_names_the_registration_endpoint(
    server: Server, client: httpx.AsyncClient
) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["registration_endpoint"] == server.url + "/oauth/clients"
    assert metadata["client_id_metadata_document_supported"] is True


async def test_closed_registration_needs_a_valid_initial_access_token(
    server: Server, client: httpx.AsyncClient
) -> None:
    for token in (None, "not-a-token"):
        response = await _register(client, NATIVE, token)
        _refused(response, 401, "invalid_token")
        assert response.headers["www-authenticate"].startswith("Bearer ")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert not await Client.filter(registration="dynamic").exists()


async def test_an_initial_access_token_is_spent_per_client_and_ends_when_used_up(
    server: Server, client: httpx.AsyncClient
) -> None:
    token = await _initial_token(uses=2)
    # A refused registration spends nothing.
    _refused(
        await _register(client, {**NATIVE, "redirect_uris": []}, token), 400, "invalid_redirect_uri"
    )
    for _ in range(2):
        assert (await _register(client, NATIVE, token)).status_code == 201
    _refused(await _register(client, NATIVE, token), 401, "invalid_token")
    assert await Client.filter(registration="dynamic").count() == 2


async def test_an_expired_initial_access_token_is_refused(
    server: Server, client: httpx.AsyncClient
) -> None:
    token = await _initial_token()
    await InitialAccessTokenRows.expire()
    _refused(await _register(client, NATIVE, token), 401, "invalid_token")


class InitialAccessTokenRows:
    @staticmethod
    async def expire() -> None:
        from provider.storage.models import InitialAccessToken

        await InitialAccessToken.all().update(expires_at=utcnow() - timedelta(seconds=1))


async def test_a_registered_client_is_marked_dynamic_and_answers_rfc_7591(
    server: Server, client: httpx.AsyncClient
) -> None:
    response = await _register(
        client,
        {
            **NATIVE,
            "logo_uri": "https://cli.example/logo.png",
            "software_id": "cli",
            "unknown_metadata": "ignored",  # RFC 7591 §2: MUST be ignored
        },
        await _initial_token(),
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["client_name"] == "Native CLI"
    assert body["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in body
    assert body["logo_uri"] == "https://cli.example/logo.png"
    assert "unknown_metadata" not in body
    assert body["registration_client_uri"] == f"{server.url}/oauth/clients/{body['client_id']}"
    row = await Client.get(id=body["client_id"])
    assert (row.registration, row.first_party, row.public) == ("dynamic", False, True)
    assert row.registration_token_hash == token_hash(body["registration_access_token"])
    assert await AuditEvent.filter(event="client.registered", client_id=row.id).exists()


async def test_a_confidential_client_gets_a_secret_that_authenticates(
    server_with: Any,
) -> None:
    server = await server_with(**OPEN)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await _register(
            http,
            {
                "client_name": "Web app",
                "redirect_uris": ["https://app.example/cb"],
                "grant_types": ["authorization_code"],
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["token_endpoint_auth_method"] == "client_secret_basic"
        assert body["client_secret_expires_at"] == 0
        # The secret works at the token endpoint (an unknown code, but the client is known).
        answer = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": "x",
                "redirect_uri": "https://app.example/cb",
            },
            auth=(body["client_id"], body["client_secret"]),
        )
        assert answer.json()["error"] == "invalid_grant"


async def test_the_policy_answers_with_rfc_7591_error_codes(server_with: Any) -> None:
    server = await server_with(**OPEN, registration_redirect_hosts=".example.com")
    cases: list[tuple[dict[str, Any], str]] = [
        ({**NATIVE, "redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({**NATIVE, "redirect_uris": ["https://evil.test/cb"]}, "invalid_redirect_uri"),
        ({**NATIVE, "redirect_uris": ["https://a.example.com/cb#x"]}, "invalid_redirect_uri"),
        ({**NATIVE, "redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({**NATIVE, "redirect_uris": "https://a.example.com/cb"}, "invalid_redirect_uri"),
        # RFC 8252 §7.1: a private-use scheme is a reverse domain name, for public clients only.
        ({**NATIVE, "redirect_uris": ["myapp:/cb"]}, "invalid_redirect_uri"),
        (
            {
                **NATIVE,
                "redirect_uris": ["com.example.app:/cb"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            "invalid_redirect_uri",
        ),
        ({**NATIVE, "grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({**NATIVE, "grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({**NATIVE, "response_types": ["token"]}, "invalid_client_metadata"),
        ({**NATIVE, "scope": "openid bad\\scope"}, "invalid_client_metadata"),
        ({**NATIVE, "token_endpoint_auth_method": "magic"}, "invalid_client_metadata"),
        ({**NATIVE, "client_name": 42}, "invalid_client_metadata"),
        ({**NATIVE, "logo_uri": "http://a.example.com/logo.png"}, "invalid_client_metadata"),
        ({**NATIVE, "client_name": "nul\u0000"}, "invalid_client_metadata"),
        ({**NATIVE, "software_statement": "eyJ.e30.x"}, "unapproved_software_statement"),
    ]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for metadata, error in cases:
            _refused(await _register(http, metadata), 400, error)
        bad_json = await http.post(
            "/oauth/clients", content=b"{", headers={"content-type": "application/json"}
        )
        _refused(bad_json, 400, "invalid_client_metadata")
        accepted = await _register(
            http,
            {
                **NATIVE,
                "redirect_uris": ["com.example.app:/cb", "http://[::1]/cb"],
                # Scopes outside the policy are left out, not refused (RFC 7591 §3.2.1).
                "scope": "openid admin orders.read",
            },
        )
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["scope"] == "openid"
    assert await Client.filter(registration="dynamic").count() == 1


async def test_public_only_refuses_confidential_clients(server_with: Any) -> None:
    server = await server_with(**OPEN, registration_public_only="true")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        metadata = {**NATIVE, "token_endpoint_auth_method": "client_secret_post"}
        _refused(await _register(http, metadata), 400, "invalid_client_metadata")
        assert (await _register(http, NATIVE)).status_code == 201


async def test_registrations_per_address_are_limited(server_with: Any) -> None:
    server = await server_with(registration_open="true", ratelimit_registration_per_ip="2")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        first = await _register(http, NATIVE)
        assert first.status_code == 201
        assert first.headers["x-ratelimit-remaining"] == "1"
        # A refused registration counts too: the limit is on arrivals.
        _refused(
            await _register(http, {**NATIVE, "redirect_uris": []}), 400, "invalid_redirect_uri"
        )
        limited = await _register(http, NATIVE)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
    assert await Client.filter(registration="dynamic").count() == 1


async def test_the_registration_access_token_reads_replaces_and_deletes(
    server_with: Any,
) -> None:
    server = await server_with(**OPEN)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        body = (await _register(http, NATIVE)).json()
        uri, token = body["registration_client_uri"], body["registration_access_token"]
        client_id = body["client_id"]

        for wrong in ({}, {"Authorization": "Bearer wrong"}):
            _refused(await http.get(uri, headers=wrong), 401, "invalid_token")
            _refused(await http.delete(uri, headers=wrong), 401, "invalid_token")
            _refused(await http.put(uri, json={}, headers=wrong), 401, "invalid_token")
        # Another client's token, or an unknown client: the same 401 (RFC 7592 §2.1).
        other = (await _register(http, NATIVE)).json()
        auth = {"Authorization": f"Bearer {other['registration_access_token']}"}
        _refused(await http.get(uri, headers=auth), 401, "invalid_token")
        _refused(
            await http.get(f"{server.url}/oauth/clients/nope", headers=auth), 401, "invalid_token"
        )

        read = await http.get(uri, headers={"Authorization": f"Bearer {token}"})
        assert read.status_code == 200, read.text
        assert read.json()["client_id"] == client_id
        assert read.headers["cache-control"] == "no-store"
        # Each answer carries a new registration access token; the old one has ended.
        token, old = read.json()["registration_access_token"], token
        _refused(
            await http.get(uri, headers={"Authorization": f"Bearer {old}"}), 401, "invalid_token"
        )

        auth = {"Authorization": f"Bearer {token}"}
        replacement = {
            **NATIVE,
            "client_id": client_id,
            "client_name": "Renamed",
            "redirect_uris": ["http://127.0.0.1/other"],
        }
        _refused(
            await http.put(uri, json={**replacement, "client_id": "x"}, headers=auth),
            400,
            "invalid_client_metadata",
        )
        _refused(
            await http.put(uri, json={**replacement, "redirect_uris": ["ftp://x/"]}, headers=auth),
            400,
            "invalid_redirect_uri",
        )
        _refused(
            await http.put(
                uri, json={**replacement, "registration_access_token": token}, headers=auth
            ),
            400,
            "invalid_client_metadata",
        )
        updated = await http.put(uri, json=replacement, headers=auth)
        assert updated.status_code == 200, updated.text
        assert updated.json()["client_name"] == "Renamed"
        row = await Client.get(id=client_id)
        assert (row.name, row.redirect_uris) == ("Renamed", ["http://127.0.0.1/other"])

        auth = {"Authorization": f"Bearer {updated.json()['registration_access_token']}"}
        deleted = await http.delete(uri, headers=auth)
        assert deleted.status_code == 204
        assert not await Client.filter(id=client_id).exists()
        _refused(await http.get(uri, headers=auth), 401, "invalid_token")


async def test_an_admin_registered_client_has_no_registration_to_manage(
    server: Server, client: httpx.AsyncClient
) -> None:
    from tests.oidc import register_client

    rp = await register_client()
    response = await client.get(
        f"/oauth/clients/{rp.client_id}", headers={"Authorization": "Bearer anything"}
    )
    _refused(response, 401, "invalid_token")


async def test_a_dynamic_native_client_signs_in_on_any_loopback_port(
    server_with: Any,
) -> None:
    server = await server_with(**OPEN)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email="ada@example.com")
        body = (await _register(http, NATIVE)).json()
    # RFC 8252 §7.3: registered without a port, used with the port the app got.
    rp = RegisteredClient(body["client_id"], None, "http://127.0.0.1:53187/callback")
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(
            browser, rp, "ada@example.com", PASSWORD, auth="none", scope="openid profile"
        )
    assert tokens["access_token"]
    async with Browser.open(server.url) as browser:
        # RFC 8252 §8.1 / OAuth 2.1: a public native client must use PKCE.
        refused = await browser.authorize(auth_params(rp, scope="openid"))
        assert redirect_query(refused, rp)["error"] == "invalid_request"
        # The token endpoint holds the code to the very URI it was sent to, port included.
        verifier, challenge = pkce_pair()
        result, _ = await sign_in_and_get_code(
            browser,
            rp,
            "ada@example.com",
            PASSWORD,
            scope="openid",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        response = await redeem_code(
            browser.http,
            rp,
            result["code"],
            verifier=verifier,
            auth="none",
            redirect_uri="http://127.0.0.1:1/callback",
        )
        assert response.json()["error"] == "invalid_grant"


async def test_native_redirects_can_be_turned_off(server_with: Any) -> None:
    server = await server_with(**OPEN, registration_allow_native="false")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for uri in ("http://127.0.0.1/cb", "http://localhost:3000/cb", "com.example.app:/cb"):
            metadata = {**NATIVE, "redirect_uris": [uri]}
            _refused(await _register(http, metadata), 400, "invalid_redirect_uri")
        web = {**NATIVE, "redirect_uris": ["https://app.example/cb"]}
        assert (await _register(http, web)).status_code == 201
