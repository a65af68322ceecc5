"""The global per-IP rate limit: off by default, on top of the per-action limits when set."""

from __future__ import annotations

import httpx

from tests.support import Server, assert_error


async def test_off_by_default(client: httpx.AsyncClient) -> None:
    for _ in range(40):
        assert (await client.get("/.well-known/openid-configuration")).status_code == 200


async def test_every_route_counts_against_one_window_per_address(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(ratelimit_global_per_ip="5", tag="global-limit")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        paths = ["/jwks", "/.well-known/openid-configuration", "/login", "/jwks", "/register"]
        for path in paths:
            assert (await http.get(path)).status_code == 200, path
        refused = await http.get("/jwks")
        error = assert_error(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) >= 1
        assert error["request_id"] == refused.headers["x-request-id"]
        api = await http.post("/v1/auth/sessions", json={"identifier": "a", "password": "b"})
        assert_error(api, 429, "rate_limited")
        # Probes and scrapes are never refused.
        for path in ("/health", "/ready", "/metrics"):
            assert (await http.get(path)).status_code == 200, path
