"""A database outage answers 503 with Retry-After in each endpoint family's error shape, never a
500; /ready says 503 while /health stays 200; the service recovers when the database is back.

The outage is a TCP proxy in front of the test PostgreSQL that the test stops: the shared
database itself is never touched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.oidc import Browser, hidden_fields, register_client
from tests.support import Server, assert_error, login, register
from tests.tcp_proxy import TcpProxy, proxied


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy in front of the test PostgreSQL, and the database URL through it."""
    if not database_url.startswith("postgres"):
        pytest.skip("the outage is simulated in front of PostgreSQL")
    async with proxied(database_url, 5432) as started:
        yield started


def _retry_after(response: httpx.Response) -> None:
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text


async def test_a_database_outage_is_503_in_each_family_and_recovers(
    server_with,
    outage: tuple[TcpProxy, str],  # type: ignore[no-untyped-def]
) -> None:
    proxy, database_through_proxy = outage
    server: Server = await server_with(database_url=database_through_proxy)
    rp = await register_client(grant_types=["client_credentials"], scopes=["api"])
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        assert (await login(http))["access_token"]
        async with Browser.open(server.url) as browser:
            form = await browser.http.get("/login", params={"next": "/account"})
            assert form.status_code == 200

            await proxy.stop()

            api = await http.post(
                "/v1/auth/sessions",
                json={"identifier": "ada@example.com", "password": "irrelevant-here"},
            )
            assert_error(api, 503, "service_unavailable")
            _retry_after(api)

            oauth = await http.post(
                "/token",
                data={"grant_type": "client_credentials", "scope": "api"},
                auth=(rp.client_id, rp.secret or ""),
            )
            assert oauth.status_code == 503, oauth.text
            assert oauth.json()["error"] == "temporarily_unavailable"
            assert set(oauth.json()) <= {"error", "error_description"}
            assert oauth.headers["cache-control"] == "no-store"
            _retry_after(oauth)

            page = await browser.http.post(
                "/login",
                data={**hidden_fields(form.text), "identifier": "ada@example.com", "password": "x"},
            )
            assert page.status_code == 503, page.text[:300]
            assert page.headers["content-type"].startswith("text/html")
            assert "temporarily unavailable" in page.text.lower()
            _retry_after(page)

            ready = await http.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "unavailable"
            assert (await http.get("/health")).status_code == 200

            await proxy.start()
            deadline = time.monotonic() + 30
            while (await http.get("/ready")).status_code != 200:
                assert time.monotonic() < deadline, "the service did not recover"
                await asyncio.sleep(0.2)
            assert (await login(http))["access_token"]
