"""Store contracts run on every backend: an in-memory SQLite database always, and the PostgreSQL
of PROVIDER_TEST_DATABASE_URL when it is set (with CI=true a missing PostgreSQL is an error,
raised by the `database_url` fixture of tests/conftest.py).

Each test receives `backend`, the name of the database it runs on; the models and stores it calls
resolve their connection through Tortoise's current context, which the fixture points at that
database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import get_current_context, tortoise_test_context

from provider.cache.events import EventPublisher
from provider.cache.memory import MemoryCache
from provider.context import Caller
from provider.storage.models import Client, Session, User
from provider.storage.unit_of_work import utcnow

CALLER = Caller(ip="203.0.113.7", user_agent="contract-tests", request_id="req-contract")


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def _rebind_models() -> None:
    """Point the model classes at the current context's database again.

    Tortoise keeps the query builders of a model, and the SQL of its inserts (keyed by connection
    name), on the class: a second context bound to another database would leave them in the
    other dialect. Clearing the cache and rebuilding them after each switch keeps both right.
    """
    EXECUTOR_CACHE.clear()
    context = get_current_context()
    if context is not None and context.apps is not None:
        context.apps._build_initial_querysets()


@asynccontextmanager
async def in_memory_sqlite() -> AsyncIterator[None]:
    """A fresh in-memory SQLite database with every table, current for the models until exit;
    then the models point at the session's database again."""
    EXECUTOR_CACHE.clear()
    try:
        async with tortoise_test_context(["provider.storage.models"], app_label="provider"):
            yield
    finally:
        _rebind_models()


async def open_backend(name: str, database: str) -> AsyncIterator[str]:
    """Point Tortoise at the database `name` ("sqlite", or "postgres…" for the test PostgreSQL)
    for the duration of one test."""
    if name == "sqlite":
        async with in_memory_sqlite():
            yield name
        return
    if not _is_postgres(database):
        pytest.skip("PROVIDER_TEST_DATABASE_URL names no PostgreSQL")
    # The session-wide database of tests/conftest.py, emptied by `clean`; a store's contract
    # starts from empty tables, so the built-in client the servers keep goes too.
    await Client.all().delete()
    yield name


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, clean: None, database: str) -> AsyncIterator[str]:
    async for name in open_backend(request.param, database):
        yield name


@dataclass
class RecordingPublisher(EventPublisher):
    """Keeps what would be published on `auth:*`, in order."""

    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(MemoryCache())

    def publish(self, event: str, payload: dict[str, Any]) -> None:
        self.published.append((event, payload))

    def names(self) -> list[str]:
        return [event for event, _ in self.published]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


async def make_session(*, ttl: int = 3600, email: str | None = None) -> Session:
    """A user and a live session of theirs."""
    now = utcnow()
    user = await User.create(
        id=uuid.uuid4(),
        email=email or f"{uuid.uuid4().hex[:12]}@example.com",
        password_hash="not-a-hash",
    )
    return await Session.create(
        id=uuid.uuid4(),
        user=user,
        created_at=now,
        last_active_at=now,
        expires_at=now + timedelta(seconds=ttl),
        auth_time=now,
        amr=["pwd"],
        acr="1",
    )
