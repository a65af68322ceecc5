"""A TCP proxy in front of a real server (PostgreSQL, Redis) that a test can stop, start again or
slow down, without touching the shared server itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `host:port`; `stop` refuses new connections and cuts the
    open ones, `start` again on the same port brings it back. `hold(data)` says how many seconds
    to hold each chunk the client sends before passing it on (in order: later chunks wait)."""

    def __init__(
        self, host: str, port: int, hold: Callable[[bytes], float] = lambda _: 0.0
    ) -> None:
        self.target = (host, port)
        self.port = 0
        self._hold = hold
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def running(self) -> bool:
        return self._server is not None

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
            self._pipe(reader, up_writer, self._hold),
            self._pipe(up_reader, writer, lambda _: 0.0),
            return_exceptions=True,
        )

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        hold: Callable[[bytes], float],
    ) -> None:
        try:
            while data := await reader.read(65536):
                if delay := hold(data):
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


@asynccontextmanager
async def proxied(
    url: str, default_port: int, hold: Callable[[bytes], float] = lambda _: 0.0
) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A started proxy in front of the server of `url`, and `url` pointed at the proxy; the
    proxy is stopped on exit."""
    target = urlsplit(url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or default_port, hold)
    await proxy.start()
    auth = target.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
    try:
        yield proxy, urlunsplit(target._replace(netloc=netloc))
    finally:
        if proxy.running:
            await proxy.stop()
