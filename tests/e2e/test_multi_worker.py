"""Two worker processes: state that must be shared (tokens, keys) is, whichever worker answers."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from provider.crypto.tokens import token_hash
from provider.storage.models import AuditEvent, RefreshToken, Session
from tests.support import Server, assert_error, bearer, login, register

pytestmark = pytest.mark.e2e


def _workers_that_answered(server: Server, request_ids: list[str]) -> set[int]:
    pids = _pids_by_request_id(server)
    return {pids[request_id] for request_id in request_ids if request_id in pids}


def _pids_by_request_id(server: Server) -> dict[str, int]:
    """Which worker process wrote the access-log line of each request id."""
    pids = {}
    for line in server.log().splitlines():
        if '"provider.access"' in line:
            entry = json.loads(line)
            pids[entry["request_id"]] = entry["pid"]
    return pids


async def _fresh_connection(
    server: Server, method: str, path: str, **kwargs: object
) -> httpx.Response:
    """One request on a new TCP connection, so the kernel may hand it to either worker."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_a_replayed_refresh_token_is_caught_by_every_worker(server_with) -> None:
    server: Server = await server_with(workers="2")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        tokens = await login(http)
        rotated = await http.post(
            "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert rotated.status_code == 200

    run = uuid.uuid4().hex[:8]  # request ids of this test only: the server is shared
    request_ids: list[str] = []
    for attempt in range(60):
        request_id = f"replay-{run}-{attempt}"
        response = await _fresh_connection(
            server,
            "POST",
            "/v1/auth/tokens/refresh",
            json={"refresh_token": tokens["refresh_token"]},
            headers={"X-Request-ID": request_id},
        )
        assert_error(response, 401, "invalid_refresh_token")
        request_ids.append(request_id)
        if attempt >= 19 and len(_workers_that_answered(server, request_ids)) == 2:
            break
    assert len(_workers_that_answered(server, request_ids)) == 2

    family_id = (await RefreshToken.get(token_hash=token_hash(tokens["refresh_token"]))).family_id
    family = await RefreshToken.filter(family_id=family_id)
    assert len(family) == 2
    assert all(row.revoked_reason == "reuse_detected" for row in family)
    session = await Session.get(id=tokens["session"]["id"])
    assert session.compromised_at is not None
    assert session.revoked_at is not None
    replays = await AuditEvent.filter(event="token.reuse_detected").count()
    assert replays == len(request_ids)
    # The child issued before the replays is dead on every worker too.
    for _ in range(4):
        response = await _fresh_connection(
            server,
            "POST",
            "/v1/auth/tokens/refresh",
            json={"refresh_token": rotated.json()["refresh_token"]},
        )
        assert_error(response, 401, "invalid_refresh_token")


async def test_tokens_signed_by_one_worker_verify_on_the_other(server_with) -> None:
    server: Server = await server_with(workers="2")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        tokens = await login(http)
    run = uuid.uuid4().hex[:8]
    request_ids: list[str] = []
    for attempt in range(60):
        request_id = f"me-{run}-{attempt}"
        response = await _fresh_connection(
            server, "GET", "/v1/auth/me", headers={**bearer(tokens), "X-Request-ID": request_id}
        )
        assert response.status_code == 200, response.text
        request_ids.append(request_id)
        if attempt >= 9 and len(_workers_that_answered(server, request_ids)) == 2:
            break
    assert len(_workers_that_answered(server, request_ids)) == 2
    # Both workers publish the same JWKS.
    bodies = {(await _fresh_connection(server, "GET", "/jwks")).content for _ in range(10)}
    assert len(bodies) == 1
