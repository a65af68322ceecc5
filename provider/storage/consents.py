"""What each user has allowed each client: the scopes of every consent they gave it, merged.

A consent only grows here (a new grant adds its scopes to what was allowed before); it is removed
as a whole when the client is deleted, or when the user removes the app's access.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.clients import storable_client_id
from provider.storage.models import Consent


class Consents:
    """The stored consents, read and written on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def scopes_for(self, user_id: uuid.UUID | str, client_id: str) -> list[str] | None:
        """The scopes the user has allowed the client, None if they never consented."""
        consent = await Consent.get_or_none(
            user_id=user_id, client_id=client_id, using_db=self._conn
        )
        return None if consent is None else list(consent.scopes)

    async def remember(
        self, user_id: uuid.UUID | str, client_id: str, scopes: list[str], now: datetime
    ) -> list[str]:
        """Add `scopes` to what the user allowed the client before; returns the whole set."""
        consent = await Consent.get_or_none(
            user_id=user_id, client_id=client_id, using_db=self._conn
        )
        if consent is None:
            allowed = list(scopes)
            await Consent.create(
                id=uuid.uuid4(),
                user_id=user_id,
                client_id=client_id,
                scopes=allowed,
                created_at=now,
                updated_at=now,
                using_db=self._conn,
            )
            return allowed
        consent.scopes = sorted(set(consent.scopes) | set(scopes))
        consent.updated_at = now
        await consent.save(using_db=self._conn)
        return list(consent.scopes)

    async def forget_client(self, client_id: str) -> int:
        """Remove every user's consent to the client; returns how many there were."""
        return await Consent.filter(client_id=client_id).using_db(self._conn).delete()

    async def forget(self, user_id: uuid.UUID | str, client_id: str) -> bool:
        """Remove the user's consent to the client; False if there was none (or the id cannot
        be a client's)."""
        if not storable_client_id(client_id):
            return False
        removed = (
            await Consent.filter(user_id=user_id, client_id=client_id).using_db(self._conn).delete()
        )
        return removed > 0
