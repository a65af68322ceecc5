"""The registered resource servers (APIs): found by identifier for every token request, listed
and written for the admin."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import ResourceServer

MAX_IDENTIFIER_LENGTH = 512  # the resource_servers.identifier column


class ResourceServers:
    """The resource server rows, read and written on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def by_identifiers(self, identifiers: Collection[str]) -> dict[str, ResourceServer]:
        """The registered resource servers among `identifiers`, by identifier (exact match). A
        value no identifier can be (empty, too long, with a NUL or another control character,
        which PostgreSQL text refuses) is simply not found."""
        wanted = [i for i in identifiers if 0 < len(i) <= MAX_IDENTIFIER_LENGTH and i.isprintable()]
        if not wanted:
            return {}
        rows = await ResourceServer.filter(identifier__in=wanted).using_db(self._conn)
        return {row.identifier: row for row in rows}

    async def find(self, resource_id: str) -> ResourceServer | None:
        """The resource server with this row id; None if there is none or the id is not one."""
        try:
            key = uuid.UUID(resource_id)
        except ValueError:
            return None
        return await ResourceServer.filter(id=key).using_db(self._conn).first()

    async def everyone(self) -> list[ResourceServer]:
        """Every resource server, by identifier."""
        return await ResourceServer.all().using_db(self._conn).order_by("identifier")

    async def identifier_taken(self, identifier: str) -> bool:
        return await ResourceServer.filter(identifier=identifier).using_db(self._conn).exists()

    async def add(self, **fields: Any) -> ResourceServer:
        return await ResourceServer.create(id=uuid.uuid4(), **fields, using_db=self._conn)

    async def save(self, resource: ResourceServer, *, fields: list[str]) -> None:
        await resource.save(using_db=self._conn, update_fields=[*fields, "updated_at"])

    async def remove(self, resource: ResourceServer) -> bool:
        """Delete the row; False if it was already gone."""
        deleted = await ResourceServer.filter(id=resource.id).using_db(self._conn).delete()
        return bool(deleted)
