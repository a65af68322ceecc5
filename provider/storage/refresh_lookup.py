"""Finding the refresh token a client presents, for introspection and revocation."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import RefreshToken


class RefreshLookup:
    """The refresh-token rows, read on the caller's connection."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        """The token with this hash, its session loaded; None if there is none."""
        return await RefreshToken.get_or_none(
            token_hash=token_hash, using_db=self._conn
        ).select_related("session")
