"""The registered clients: one lookup for every caller, pages for the admin, writes.

`find` is the one lookup rule. An id that no client can have (empty, longer than the column,
with a NUL or another non-printable character) is simply unknown: PostgreSQL refuses NUL in text,
which would be a 500 instead of a clean refusal. A deleted client is gone: its row is removed.
A disabled client is found only by callers that ask for it (the admin, the pages that name it,
logout); everything that lets a client act (authorization, token, introspection) does not.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from provider.storage.models import Client

MAX_CLIENT_ID_LENGTH = 128  # the clients.id column


def storable_client_id(client_id: str | None) -> bool:
    """Whether a presented id could be stored at all (see the module docstring)."""
    return (
        client_id is not None
        and 0 < len(client_id) <= MAX_CLIENT_ID_LENGTH
        and client_id.isprintable()
    )


class Clients:
    """The client rows, read and written on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def find(self, client_id: str | None, *, include_disabled: bool = False) -> Client | None:
        """The client with this id; None if there is none, if the id cannot be one, or if it is
        disabled and `include_disabled` is not set."""
        if not storable_client_id(client_id):
            return None
        # Every token, introspection and revocation request starts here: a plain parameterised
        # SELECT skips the query builder, which cost as much CPU as the rest of the lookup.
        placeholder = "$1" if self._conn.capabilities.dialect == "postgres" else "?"
        rows = await self._conn.execute_query_dict(
            f'SELECT * FROM "clients" WHERE "id" = {placeholder}',  # noqa: S608 - constant SQL
            [client_id],
        )
        client = Client._init_from_db(**rows[0]) if rows else None
        if client is None or (client.disabled and not include_disabled):
            return None
        return client

    async def page(
        self,
        *,
        after: tuple[datetime, str] | None,
        limit: int,
        hidden: Collection[str] = (),
    ) -> tuple[list[Client], bool]:
        """Up to `limit` clients but `hidden`, oldest first, after the (created_at, id) position
        `after`; and whether more follow. Keyset paging: clients registered meanwhile shift no
        page."""
        query = self._listed(hidden)
        if after is not None:
            created, after_id = after
            query = query.filter(Q(created_at__gt=created) | Q(created_at=created, id__gt=after_id))
        clients = await query.order_by("created_at", "id").limit(limit + 1)
        return clients[:limit], len(clients) > limit

    async def everyone(self, *, hidden: Collection[str] = ()) -> list[Client]:
        """Every client but `hidden`, oldest first (the CLI's listing)."""
        return await self._listed(hidden).order_by("created_at", "id")

    def _listed(self, hidden: Collection[str]) -> QuerySet[Client]:
        query = Client.all().using_db(self._conn)
        return query.exclude(id__in=list(hidden)) if hidden else query

    async def add(self, **fields: Any) -> Client:
        return await Client.create(**fields, using_db=self._conn)

    async def mirror(
        self, client_id: str, fields: dict[str, Any], existing: Client | None
    ) -> tuple[bool, bool]:
        """Make the row `client_id` hold `fields` (a client described by a document it serves),
        creating it when `existing` is None; returns (created, changed). Two workers creating
        the same row at once both succeed: the insert ignores a conflict on the id."""
        if existing is None:
            now = datetime.now(UTC)
            row = Client(id=client_id, created_at=now, updated_at=now, **fields)
            await Client.bulk_create([row], ignore_conflicts=True, using_db=self._conn)
            return True, False
        changes = {
            name: value for name, value in fields.items() if getattr(existing, name) != value
        }
        if changes:
            existing.update_from_dict(changes)
            await self.save(existing, fields=sorted(changes))
        return False, bool(changes)

    async def save(self, client: Client, *, fields: list[str] | None = None) -> None:
        """Write the client's changed attributes (`fields` only, if given, with updated_at)."""
        if fields is None:
            await client.save(using_db=self._conn)
        else:
            await client.save(using_db=self._conn, update_fields=[*fields, "updated_at"])

    async def remove(self, client_id: str) -> bool:
        """Delete the client's row; False if there was none."""
        return bool(await Client.filter(id=client_id).using_db(self._conn).delete())
