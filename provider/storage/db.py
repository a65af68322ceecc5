"""Open and close the database; the same config serves the server, the CLI and migrations."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from provider.storage.sqlite_snapshot import create_from_snapshot

APP_LABEL = "provider"
# Connections per worker: enough for the queries in flight while others wait on Argon2 or Redis.
POOL_MAX_SIZE = 20


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection_url(database_url)},
        "apps": {
            APP_LABEL: {
                "models": ["provider.storage.models"],
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection_url(database_url: str) -> str | dict[str, Any]:
    if database_url.startswith("sqlite://"):
        _sqlite_file(database_url)
        return database_url
    config = expand_db_url(database_url)
    credentials = config["credentials"]
    credentials.setdefault("maxsize", POOL_MAX_SIZE)
    credentials["reset"] = _keep_connection_state
    return config


async def _keep_connection_state(connection: object) -> None:
    """asyncpg's default reset runs `RESET ALL; UNLISTEN *; CLOSE ALL; …` on every release: one
    more round trip per query. Nothing here changes session state, listens or keeps cursors, and
    asyncpg still rolls back a connection released inside a transaction, so there is nothing to
    reset."""


async def open_database(database_url: str) -> None:
    """One global context per process: request tasks do not inherit the start-up task's context."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply every pending migration of `migrations/`; an empty SQLite file first gets the schema
    they make from `sqlite_snapshot.sql`, in a fraction of the time (see that module)."""
    database_file = _sqlite_file(database_url)
    if database_file is not None:
        await asyncio.to_thread(create_from_snapshot, database_file)
    await apply_migrations(database_url)


def _sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database, its folder made if missing; None for PostgreSQL and for an
    in-memory database."""
    if not database_url.startswith("sqlite://"):
        return None
    path = str(expand_db_url(database_url)["credentials"]["file_path"])
    if path == ":memory:":
        return None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Path(path)


async def apply_migrations(database_url: str) -> None:
    """Every pending migration of `migrations/`, through Tortoise's migration tool alone."""
    # The tool rebuilds its model classes for each operation it applies, and the cyclic garbage
    # collector runs over and over meanwhile: with what is already loaded (modules, the models)
    # frozen out of its reach, migrating an empty database takes about 15 % less CPU, a part of
    # a first start. Unfrozen after, so nothing is kept out of collection.
    gc.freeze()
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        gc.unfreeze()
    await Tortoise.close_connections()


def default_connection() -> BaseDBAsyncClient:
    """The connection for a lone statement that needs no transaction of its own."""
    conn: BaseDBAsyncClient = connections.get("default")
    return conn


async def ping_database() -> None:
    """One round trip to the database; raises whatever the driver raises when it is not there."""
    await default_connection().execute_query("SELECT 1")
