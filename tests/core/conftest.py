"""An in-memory core: settings, a fresh in-memory SQLite database per test, the in-memory cache,
a publisher that records events and a keystore with one RS256 key. No server, no PostgreSQL, no
Redis: the core's use cases are called directly.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest

from provider.cache.memory import MemoryCache
from provider.config import Settings
from provider.context import Services
from provider.crypto.keys import Keystore, write_key
from provider.crypto.passwords import Passwords
from tests.contract.conftest import RecordingPublisher, in_memory_sqlite

# Explicit values for every setting a test depends on, whatever the environment holds.
SETTINGS = Settings(
    issuer="https://id.example.com",
    access_token_ttl=600,
    refresh_token_ttl=14 * 86_400,
    session_idle_ttl=7 * 86_400,
    session_absolute_ttl=30 * 86_400,
    max_sessions_per_user=10,
    lockout_threshold=5,
    lockout_window=900,
    lockout_duration=900,
)


@pytest.fixture(scope="session")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Keystore:
    keys_dir = tmp_path_factory.mktemp("core-keys")
    write_key(keys_dir, "RS256", active_from=time.time() - 10)
    return Keystore(keys_dir, SETTINGS.access_token_ttl)


@pytest.fixture(scope="session")
def passwords() -> Iterator[Passwords]:
    """Argon2 at its cheapest: the rules around the hash are under test, not its cost."""
    hasher = Passwords(time_cost=1, memory_cost=8, parallelism=1, threads=1)
    yield hasher
    hasher.close()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
async def services(
    keystore: Keystore, passwords: Passwords, publisher: RecordingPublisher
) -> AsyncIterator[Services]:
    """The services of one test, on an empty in-memory database and an empty cache."""
    async with in_memory_sqlite():
        yield Services(
            settings=SETTINGS,
            cache=MemoryCache(),
            events=publisher,
            passwords=passwords,
            keystore=keystore,
        )
