"""What the admin pages show instead of ids: the email of each user and the name of each client
named by audit rows or logins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import Client, User


class AuditNames:
    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def user_emails(self, user_ids: Iterable[str]) -> dict[str, str]:
        """User id (as text) → email, for the ids that name an account, deleted or not."""
        ids = {uuid.UUID(value) for value in user_ids}
        if not ids:
            return {}
        rows = await User.filter(id__in=ids).using_db(self._conn).values_list("id", "email")
        return {str(user_id): str(email) for user_id, email in rows}

    async def client_names(self, client_ids: Iterable[str]) -> dict[str, str]:
        """Client id → name, for the ids that name a registered client."""
        ids = set(client_ids)
        if not ids:
            return {}
        rows = await Client.filter(id__in=ids).using_db(self._conn).values_list("id", "name")
        return {str(client_id): str(name) for client_id, name in rows}
