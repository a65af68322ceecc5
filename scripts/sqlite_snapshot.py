"""Write `provider/storage/sqlite_snapshot.sql` again from the migrations: run them all on an empty
SQLite database with Tortoise's tool and dump what they made.

`python -m scripts.sqlite_snapshot` after adding a migration (`scripts/makemigrations` runs it).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from provider.storage.db import apply_migrations
from provider.storage.sqlite_snapshot import SNAPSHOT, snapshot_of


def migrated_snapshot() -> str:
    """The script the migrations of `migrations/` make, as it should read."""
    with tempfile.TemporaryDirectory(prefix="provider-snapshot-") as workdir:
        database = Path(workdir) / "migrated.sqlite3"
        asyncio.run(apply_migrations(f"sqlite://{database}"))
        return snapshot_of(database)


def main() -> None:
    SNAPSHOT.write_text(migrated_snapshot(), encoding="utf-8")
    print(f"wrote {SNAPSHOT.name}")


if __name__ == "__main__":
    main()
