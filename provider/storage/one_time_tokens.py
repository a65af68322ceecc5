"""Single-use secrets (mail links, login steps), stored as SHA-256 hashes.

Consumption is a conditional update (`used_at IS NULL` → now) whose row count must be 1, so of two
concurrent uses exactly one wins on every database (SELECT … FOR UPDATE is a no-op on SQLite).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import OneTimeToken


class OneTimeTokens:
    """The one-time tokens, read and written on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def save(
        self,
        token_hash: str,
        user_id: uuid.UUID | str,
        purpose: str,
        *,
        data: dict[str, Any],
        now: datetime,
        ttl: int,
    ) -> None:
        await OneTimeToken.create(
            id=uuid.uuid4(),
            token_hash=token_hash,
            purpose=purpose,
            user_id=user_id,
            data=data,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            using_db=self._conn,
        )

    async def find_usable(
        self, token_hash: str, purpose: str, now: datetime
    ) -> OneTimeToken | None:
        """The unused, unexpired token of this purpose, without consuming it."""
        return await OneTimeToken.get_or_none(
            token_hash=token_hash,
            purpose=purpose,
            used_at=None,
            expires_at__gt=now,
            using_db=self._conn,
        )

    async def consume(self, token_hash: str, purpose: str, now: datetime) -> OneTimeToken | None:
        """Mark the token used if it is still usable; None when it is unknown, used or expired."""
        claimed = (
            await OneTimeToken.filter(
                token_hash=token_hash, purpose=purpose, used_at=None, expires_at__gt=now
            )
            .using_db(self._conn)
            .update(used_at=now)
        )
        if claimed != 1:
            return None
        return await OneTimeToken.filter(token_hash=token_hash).using_db(self._conn).get()

    async def retire(self, user_id: uuid.UUID | str, purpose: str, now: datetime) -> None:
        """Mark every outstanding token of this purpose used (e.g. older links after a reset)."""
        await (
            OneTimeToken.filter(user_id=user_id, purpose=purpose, used_at=None)
            .using_db(self._conn)
            .update(used_at=now)
        )
