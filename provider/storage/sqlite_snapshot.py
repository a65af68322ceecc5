"""A first start on SQLite makes its schema from one script instead of replaying every migration.

Tortoise's migration tool rebuilds its model state for each operation it applies: on an empty
database that is about a third of a first start of `provider serve` (0.31 s of 1.04 s). The script,
`sqlite_snapshot.sql`, is SQLite's own dump of a database those migrations made, with the tool's
record of each migration, so a database made from it is the same table for table, and the tool,
run after it, finds nothing pending and applies only what came later.

`python -m scripts.sqlite_snapshot` writes the script again after a migration is added;
`tests/integration/test_sqlite_snapshot.py` fails while it differs from what the migrations make.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("sqlite_snapshot.sql")
HEADER = (
    "-- The schema the migrations make on an empty SQLite database, with their records.\n"
    "-- Written by `python -m scripts.sqlite_snapshot`; do not edit.\n"
)
# The tool's records of the migrations, written as one statement: they take the time the
# script runs, not the time it was written.
_RECORD = re.compile(
    r"""^INSERT INTO "tortoise_migrations" VALUES\((\d+),('[^']*'),('[^']*'),'[^']*'\);$"""
)
_NOW = "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"


def snapshot_of(database: Path) -> str:
    """The script that makes a database like `database`, a database the migrations made."""
    connection = sqlite3.connect(database)
    try:
        dumped = list(connection.iterdump())
    finally:
        connection.close()
    records = [m.groups() for m in map(_RECORD.match, dumped) if m is not None]
    rows = ",\n".join(f"({n},{app},{name},{_NOW})" for n, app, name in records)
    statements: list[str] = []
    for statement in dumped:
        record = _RECORD.match(statement)
        if record is None and statement not in ("BEGIN TRANSACTION;", "COMMIT;"):
            statements.append(statement)
        elif record is not None and record.groups() == records[0]:
            statements.append(f'INSERT INTO "tortoise_migrations" VALUES\n{rows};')
    return HEADER + "\n".join(statements) + "\n"


def create_from_snapshot(database: Path) -> bool:
    """Make the schema of an empty database from the script, in one transaction; False, with the
    database untouched, when it holds any table (it was made before, or by another process
    starting at the same time)."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        # A write lock first, so two processes starting on one new file do not both make it.
        connection.execute("BEGIN IMMEDIATE")
        if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            connection.execute("ROLLBACK")
            return False
        for statement in _statements(SNAPSHOT.read_text(encoding="utf-8")):
            connection.execute(statement)
        connection.execute("COMMIT")
        return True
    finally:
        connection.close()


def _statements(script: str) -> Iterator[str]:
    """The script's statements one by one (one `execute` each, inside the caller's transaction:
    `executescript` would commit it first)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and line.startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
