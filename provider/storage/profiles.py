"""The profile columns of a user: the one write of the profile page and PATCH /v1/auth/me."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from provider.domain_errors import UsernameTaken
from provider.storage.models import User


class Profiles:
    """Profile writes, on the caller's transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def username_taken(self, username: str, other_than: uuid.UUID) -> bool:
        return (
            await User.filter(username=username)
            .exclude(id=other_than)
            .using_db(self._conn)
            .exists()
        )

    async def update(self, user_id: uuid.UUID, values: dict[str, Any], now: datetime) -> None:
        """Write `values` and move `updated_at` (the OIDC claim) to `now`.

        Two users claiming the same username at once: the unique index refuses the second, which
        is answered as the taken username it is.
        """
        try:
            await User.filter(id=user_id).using_db(self._conn).update(**values, updated_at=now)
        except IntegrityError as exc:
            raise UsernameTaken() from exc
