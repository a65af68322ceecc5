"""Two workers keeping copies of the clients (PROVIDER_CLIENT_CACHE): a change made through one
worker holds on the other at its very next request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.admin_support import admin
from tests.oidc import Browser, register_client, sign_in_for_tokens
from tests.support import PASSWORD, Server, bearer, register

pytestmark = pytest.mark.e2e

CLIENTS = "/v1/admin/clients"
SERVICE = {"name": "Billing job", "grant_types": ["client_credentials"], "scopes": []}


def _pids_by_request_id(server: Server) -> dict[str, int]:
    pids = {}
    for line in server.log().splitlines():
        if '"provider.access"' in line:
            entry = json.loads(line)
            pids[entry["request_id"]] = entry["pid"]
    return pids


async def _on_both_workers(
    server: Server, send: Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]
) -> list[httpx.Response]:
    """`send` on new connections (the kernel hands each to either worker) until both workers
    have answered at least once."""
    run = uuid.uuid4().hex[:8]
    responses: list[httpx.Response] = []
    request_ids: list[str] = []
    for attempt in range(60):
        request_id = f"cache-{run}-{attempt}"
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            responses.append(await send(http, {"X-Request-ID": request_id}))
        request_ids.append(request_id)
        pids = _pids_by_request_id(server)
        if attempt >= 5 and len({pids[r] for r in request_ids if r in pids}) == 2:
            return responses
    raise AssertionError("one worker answered every request")


def _client_credentials(
    client_id: str, secret: str
) -> Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]:
    async def send(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
        return await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
            headers=headers,
        )

    return send


async def _registered_service(http: httpx.AsyncClient) -> tuple[dict[str, str], str, str]:
    headers = await admin(http)
    created = await http.post(CLIENTS, json=SERVICE, headers=headers)
    assert created.status_code == 201, created.text
    return headers, created.json()["client"]["client_id"], created.json()["client_secret"]


async def test_a_client_disabled_through_one_worker_is_refused_by_the_other(server_with) -> None:
    server: Server = await server_with(workers="2", client_cache="true")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        headers, client_id, secret = await _registered_service(http)
        # Both workers now hold a copy of the enabled client.
        warm = await _on_both_workers(server, _client_credentials(client_id, secret))
        assert all(response.status_code == 200 for response in warm)
        disabled = await http.post(f"{CLIENTS}/{client_id}/disable", headers=headers)
        assert disabled.status_code in (200, 204), disabled.text
    refused = await _on_both_workers(server, _client_credentials(client_id, secret))
    assert [response.status_code for response in refused] == [401] * len(refused)
    assert all(response.json()["error"] == "invalid_client" for response in refused)


async def test_a_rotated_secret_works_on_every_worker_at_once(server_with) -> None:
    server: Server = await server_with(workers="2", client_cache="true")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        headers, client_id, old = await _registered_service(http)
        warm = await _on_both_workers(server, _client_credentials(client_id, old))
        assert all(response.status_code == 200 for response in warm)
        rotated = await http.post(
            f"{CLIENTS}/{client_id}/rotate-secret", json={"grace_seconds": 0}, headers=headers
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["client_secret"]
    accepted = await _on_both_workers(server, _client_credentials(client_id, new))
    assert [response.status_code for response in accepted] == [200] * len(accepted)
    refused = await _on_both_workers(server, _client_credentials(client_id, old))
    assert [response.status_code for response in refused] == [401] * len(refused)


async def test_userinfo_refuses_a_disabled_clients_token_on_every_worker(server_with) -> None:
    server: Server = await server_with(workers="2", client_cache="true")
    rp = await register_client()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        headers = await admin(http)
        await register(http, email="ada@example.com")
        tokens, _ = await sign_in_for_tokens(Browser(http), rp, "ada@example.com", PASSWORD)

        async def userinfo(fresh: httpx.AsyncClient, ids: dict[str, str]) -> httpx.Response:
            return await fresh.get("/userinfo", headers={**bearer(tokens), **ids})

        served = await _on_both_workers(server, userinfo)
        assert [response.status_code for response in served] == [200] * len(served)
        disabled = await http.post(f"{CLIENTS}/{rp.client_id}/disable", headers=headers)
        assert disabled.status_code in (200, 204), disabled.text
    refused = await _on_both_workers(server, userinfo)
    assert [response.status_code for response in refused] == [401] * len(refused)


async def test_a_self_registered_client_deleted_by_itself_is_refused_on_every_worker(
    server_with,
) -> None:
    server: Server = await server_with(
        workers="2",
        client_cache="true",
        registration_open="true",
        registration_grant_types="client_credentials",
        ratelimit_registration_per_ip="1000",
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        metadata = {"client_name": "Nightly export", "grant_types": ["client_credentials"]}
        registered = await http.post("/oauth/clients", json=metadata)
        assert registered.status_code == 201, registered.text
        body = registered.json()
        send = _client_credentials(body["client_id"], body["client_secret"])
        warm = await _on_both_workers(server, send)
        assert all(response.status_code == 200 for response in warm)
        # RFC 7592 §2.3: the client removes its own registration through one worker.
        deleted = await http.delete(
            body["registration_client_uri"],
            headers={"Authorization": f"Bearer {body['registration_access_token']}"},
        )
        assert deleted.status_code == 204, deleted.text
    refused = await _on_both_workers(server, send)
    assert [response.status_code for response in refused] == [401] * len(refused)
