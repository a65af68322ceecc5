"""Initial access tokens (RFC 7591 §3): minted by an administrator, spent by registrations.

Spending one is a conditional update (a use left, not expired), so two registrations racing for
the last use cannot both succeed, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from provider.storage.models import InitialAccessToken


class InitialAccessTokens:
    """The rows of `initial_access_tokens`, on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def add(
        self,
        token_hash: str,
        *,
        uses: int,
        expires_at: datetime,
        note: str,
        created_by: str,
        now: datetime,
    ) -> InitialAccessToken:
        return await InitialAccessToken.create(
            id=uuid.uuid4(),
            token_hash=token_hash,
            uses_left=uses,
            expires_at=expires_at,
            note=note,
            created_by=created_by,
            created_at=now,
            using_db=self._conn,
        )

    async def usable(self, token_hash: str, now: datetime) -> bool:
        """Whether the token with this hash has a use left and has not expired (not spent)."""
        return await (
            InitialAccessToken.filter(token_hash=token_hash, uses_left__gt=0, expires_at__gt=now)
            .using_db(self._conn)
            .exists()
        )

    async def spend(self, token_hash: str, now: datetime) -> bool:
        """Take one use of the token with this hash; False if it is unknown, expired or spent."""
        updated = (
            await InitialAccessToken.filter(
                token_hash=token_hash, uses_left__gt=0, expires_at__gt=now
            )
            .using_db(self._conn)
            .update(uses_left=F("uses_left") - 1)
        )
        return bool(updated)

    async def listed(self) -> list[InitialAccessToken]:
        """Every token, newest first (the hashes only: the tokens are never stored)."""
        return await InitialAccessToken.all().using_db(self._conn).order_by("-created_at", "id")

    async def remove(self, token_id: uuid.UUID) -> bool:
        return bool(await InitialAccessToken.filter(id=token_id).using_db(self._conn).delete())
