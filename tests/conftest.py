"""Shared fixtures: the real server in a subprocess, the same database opened in the test, and a
real SMTP server (aiosmtpd) that receives the server's mail.

Integration and e2e tests run against the PostgreSQL and Redis named by
PROVIDER_TEST_DATABASE_URL and PROVIDER_TEST_REDIS_URL; without them, on the embedded defaults
(a SQLite file, in-memory cache).
With CI=true a missing service is an error, never a skip.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from tortoise import Tortoise

from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
from provider.storage.db import close_database, migrate, open_database
from provider.storage.models import (
    AppGroup,
    AppRole,
    AuditEvent,
    AuthorizationCode,
    BackupCode,
    Client,
    Consent,
    FederatedIdentity,
    IdentityProvider,
    InitialAccessToken,
    OneTimeToken,
    Passkey,
    RefreshToken,
    ResourceServer,
    Session,
    User,
)
from tests.mail import (
    MAIL_SETTINGS,
    CollectingHandler,
    Mailbox,
    MailServerFactory,
    RefusingHandler,
    start_smtp,
)
from tests.support import (
    RedisProcess,
    Server,
    fast_env,
    redis_server_binary,
    start_redis,
    start_server,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PROVIDER_TEST_DATABASE_URL", "")
    if url:
        return url
    if IN_CI:
        pytest.fail("CI=true but PROVIDER_TEST_DATABASE_URL is not set")
    return f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("PROVIDER_TEST_REDIS_URL", "")
    if not url and IN_CI:
        pytest.fail("CI=true but PROVIDER_TEST_REDIS_URL is not set")
    return url


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[str]:
    """Migrations applied once; the test process reads the same rows the server writes."""
    await migrate(database_url)
    await open_database(database_url)
    yield database_url
    await close_database()


@pytest.fixture
async def clean(database: str, redis_url: str) -> None:
    """Every test starts with empty tables and an empty cache."""
    for model in (
        AuditEvent,
        AuthorizationCode,
        Consent,
        RefreshToken,
        OneTimeToken,
        BackupCode,
        Passkey,
        Session,
        FederatedIdentity,
        InitialAccessToken,
    ):
        await model.all().delete()
    # The built-in first-party client stays: the servers write it at start, as in production.
    await Client.exclude(id=FIRST_PARTY_CLIENT_ID).delete()
    for model in (User, IdentityProvider, AppRole, AppGroup, ResourceServer):
        await model.all().delete()
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        await client.flushdb()
        await client.aclose()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def base_env(database_url: str, redis_url: str, keys_dir: Path) -> dict[str, str]:
    return fast_env(database_url, redis_url, keys_dir)


# Servers kept running at once, the least recently used stopped first: each holds PostgreSQL
# connections, and a fresh machine's PostgreSQL allows 100 in all. More than any test uses at once.
LIVE_SERVERS = 6


@pytest.fixture(scope="session")
def servers(
    base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[tuple[str, str], ...], Server]]:
    """Running servers, one per distinct configuration, in the order they were last asked for;
    stopped at the end."""
    started: dict[tuple[tuple[str, str], ...], Server] = {}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture
async def server(
    servers: dict[tuple[tuple[str, str], ...], Server],
    base_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    clean: None,
) -> Server:
    """The default server (one worker); tests that need other settings use `server_with`."""
    return await _server(servers, base_env, tmp_path_factory, {})


@pytest.fixture
def server_with(
    servers: dict[tuple[tuple[str, str], ...], Server],
    base_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    clean: None,
):  # type: ignore[no-untyped-def]
    """Start (or reuse) a server with Settings overrides, e.g. `server_with(workers="2")`.

    Servers are shared by every test asking for the same overrides. `tag="..."` is not a setting:
    it gives the caller a server of its own, for a test that needs a fresh in-memory cache
    (rate-limit windows, lockout counters) when no test Redis is flushed between tests.
    """

    async def start(**overrides: str) -> Server:
        return await _server(servers, base_env, tmp_path_factory, overrides)

    return start


async def _server(
    servers: dict[tuple[tuple[str, str], ...], Server],
    base_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    overrides: dict[str, str],
) -> Server:
    key = tuple(sorted(overrides.items()))
    if key in servers:
        servers[key] = servers.pop(key)  # the most recently used last
        return servers[key]
    while len(servers) >= LIVE_SERVERS:
        await asyncio.to_thread(servers.pop(next(iter(servers))).stop)
    settings = {k: v for k, v in overrides.items() if k != "tag"}
    env = {**base_env, **{f"PROVIDER_{k.upper()}": v for k, v in settings.items()}}
    servers[key] = await asyncio.to_thread(start_server, env, tmp_path_factory.mktemp("server"))
    return servers[key]


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def events_redis_url(redis_url: str) -> Iterator[str]:
    """A Redis to subscribe to `auth:*` on: the test Redis, or a private one without it."""
    if redis_url:
        yield redis_url
        return
    if redis_server_binary() is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    private = start_redis()
    yield private.url
    private.stop()


@pytest.fixture
async def events_server(server_with, redis_url: str, events_redis_url: str) -> Server:  # type: ignore[no-untyped-def]
    """A server that publishes its events on `events_redis_url`."""
    if events_redis_url == redis_url:
        server: Server = await server_with()
    else:
        server = await server_with(redis_url=events_redis_url)
    return server


@pytest.fixture
def redis_process() -> Iterator[Callable[..., RedisProcess]]:
    """Start private redis-server processes (stopped at the end of the test)."""
    if redis_server_binary() is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    started: list[RedisProcess] = []

    def start(port: int | None = None, *options: str) -> RedisProcess:
        started.append(start_redis(port, *options))
        return started[-1]

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on a free port that keeps every message it receives."""
    mailbox = Mailbox()
    controller = start_smtp(CollectingHandler(mailbox))
    yield controller.port, mailbox
    controller.stop()


@pytest.fixture(scope="session")
def refusing_smtp() -> Iterator[tuple[int, RefusingHandler]]:
    """An SMTP server that answers 550 to every message."""
    handler = RefusingHandler()
    controller = start_smtp(handler)
    yield controller.port, handler
    controller.stop()


@pytest.fixture
def mailbox(smtp: tuple[int, Mailbox]) -> Mailbox:
    smtp[1].clear()
    return smtp[1]


@pytest.fixture
def mail_server_with(server_with: Any, smtp: tuple[int, Mailbox]) -> MailServerFactory:
    """Start (or reuse) a server that delivers to the test SMTP server, with overrides."""

    async def start(**overrides: str) -> Server:
        settings = {"smtp_url": f"smtp://127.0.0.1:{smtp[0]}", **MAIL_SETTINGS, **overrides}
        server: Server = await server_with(**settings)
        return server

    return start


@pytest.fixture
async def mail_server(mail_server_with: MailServerFactory, mailbox: Mailbox) -> Server:
    return await mail_server_with()


__all__ = ["Tortoise"]
