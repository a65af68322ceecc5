"""A first start on SQLite makes its schema from `sqlite_snapshot.sql`, not by replaying every
migration: the script must be what the migrations make, and the tool must still apply what
came after it.

Migrations run in child processes: the tool initialises Tortoise's global state, which the
suite's own database connection lives in.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from provider.storage.sqlite_snapshot import SNAPSHOT, create_from_snapshot, snapshot_of
from tests.support import ROOT


def _in_a_process(code: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
    done = subprocess.run(
        [sys.executable, "-c", f"import asyncio\n{code}"],
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _migrated_by_the_tool(database: Path, target: str | None = None) -> Path:
    _in_a_process(
        "from provider.storage.db import close_database, tortoise_config\n"
        "from tortoise.migrations.api import migrate\n"
        "async def main():\n"
        f"    await migrate(config=tortoise_config('sqlite://{database}'), target={target!r})\n"
        "    await close_database()\n"
        "asyncio.run(main())\n"
    )
    return database


def _migrated(database: Path, snapshot: Path = SNAPSHOT) -> None:
    """`provider.storage.db.migrate`, the start-up's way, with `snapshot` as the script."""
    _in_a_process(
        "from pathlib import Path\n"
        "from provider.storage import sqlite_snapshot\n"
        "from provider.storage.db import migrate\n"
        f"sqlite_snapshot.SNAPSHOT = Path({str(snapshot)!r})\n"
        f"asyncio.run(migrate('sqlite://{database}'))\n"
    )


def _rows(database: Path, query: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def _schema(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Everything the migrations leave behind but the times the tool recorded."""
    return {
        "objects": _rows(
            database, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ),
        "migrations": _rows(database, "SELECT id, app, name FROM tortoise_migrations ORDER BY id"),
        "sequences": _rows(database, "SELECT * FROM sqlite_sequence ORDER BY name"),
    }


def _recorded_at(database: Path) -> set[object]:
    return {row[0] for row in _rows(database, "SELECT applied_at FROM tortoise_migrations")}


def test_an_empty_database_made_from_the_snapshot_equals_a_migrated_one(tmp_path: Path) -> None:
    migrated = _migrated_by_the_tool(tmp_path / "migrated.sqlite3")
    made = tmp_path / "made.sqlite3"

    assert create_from_snapshot(made) is True

    assert _schema(made) == _schema(migrated), (
        "migrations/ changed: run `python -m scripts.sqlite_snapshot` and commit the script"
    )
    assert len(_schema(made)["migrations"]) == len(list((ROOT / "migrations").glob("0*.py")))
    # One statement recorded every migration, at the time the script ran.
    (recorded,) = _recorded_at(made)
    assert abs(datetime.fromisoformat(str(recorded)) - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_database_with_any_table_is_left_untouched(tmp_path: Path) -> None:
    database = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE kept (id INTEGER)")
    connection.close()

    assert create_from_snapshot(database) is False

    assert _rows(database, "SELECT name FROM sqlite_master") == [("kept",)]


def test_a_first_start_uses_the_snapshot_and_applies_the_migrations_after_it(
    tmp_path: Path,
) -> None:
    # A snapshot one migration behind, as a release would hold one before its next migration.
    older = _migrated_by_the_tool(tmp_path / "older.sqlite3", target="provider.0008_passkeys")
    older_snapshot = tmp_path / "older.sql"
    older_snapshot.write_text(snapshot_of(older), encoding="utf-8")
    migrated = _migrated_by_the_tool(tmp_path / "migrated.sqlite3")
    database = tmp_path / "var" / "provider.sqlite3"

    _migrated(database, older_snapshot)

    assert _schema(database) == _schema(migrated)
    # The snapshot's eight records share one time; the tool recorded the ninth on its own.
    assert len(_recorded_at(database)) == 2


def test_a_later_start_leaves_its_database_to_the_tool(tmp_path: Path) -> None:
    database = _migrated_by_the_tool(tmp_path / "provider.sqlite3")
    recorded = _recorded_at(database)

    _migrated(database)

    assert _recorded_at(database) == recorded
