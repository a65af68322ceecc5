"""Rows of `clients` that the provider registers itself, from its settings, rather than an admin.

`put` makes the row say what the registration says: inserted when missing, brought back in step
when it differs, left alone (no write) when it matches. Every worker of every instance calls it
at start, at the same moment, so the insert ignores a row another one wrote first.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import Client

# Everything but the key and the timestamps: the registration decides it all, secrets included
# (a built-in client has none, and one set by hand would be a credential nobody should hold).
REGISTERED_FIELDS = tuple(
    sorted(
        name for name in Client._meta.db_fields if name not in ("id", "created_at", "updated_at")
    )
)


class BuiltInClients:
    """The built-in clients' rows, read and written on the given connection."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def put(self, registration: Client) -> Client:
        """The stored row of `registration.id`, made to match the registration."""
        row = await Client.get_or_none(id=registration.id, using_db=self._conn)
        if row is None:
            await Client.bulk_create([registration], ignore_conflicts=True, using_db=self._conn)
            row = await Client.get(id=registration.id, using_db=self._conn)
        changes = _differences(row, registration)
        if changes:
            await Client.filter(id=row.id).using_db(self._conn).update(**changes)
            row.update_from_dict(changes)
        return row


def _differences(row: Client, registration: Client) -> dict[str, Any]:
    return {
        name: getattr(registration, name)
        for name in REGISTERED_FIELDS
        if getattr(row, name) != getattr(registration, name)
    }
