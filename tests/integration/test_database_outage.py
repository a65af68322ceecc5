"""A database outage answers 503 with Retry-After in each endpoint family's error shape, never a
500; /ready says 503 while /health stays 200; the service recovers when the database is back.

The outage is a TCP proxy in front of the test PostgreSQL that the test stops: the shared
database itself is never touched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.oidc import Browser, hidden_fields, register_client
from tests.support import Server, assert_error, login, register


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database; `stop` refuses new connections and cuts the
    open ones, `start` again on the same port brings it back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    if not database_url.startswith("postgres"):
        pytest.skip("the outage is simulated in front of PostgreSQL")
    parts = urlsplit(database_url)
    started = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await started.start()
    yield started
    if started._server is not None:
        await started.stop()


def _through(database_url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(database_url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _retry_after(response: httpx.Response) -> None:
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text


async def test_a_database_outage_is_503_in_each_family_and_recovers(
    server_with,
    database_url: str,
    proxy: TcpProxy,  # type: ignore[no-untyped-def]
) -> None:
    server: Server = await server_with(database_url=_through(database_url, proxy))
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
