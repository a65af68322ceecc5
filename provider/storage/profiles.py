"""The profile columns of a user (the writes of the profile page and PATCH /v1/auth/me) and
the address change that a link in a mail confirms or cancels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from provider.domain_errors import EmailTaken, UsernameTaken
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

    async def email_taken(self, email: str, other_than: uuid.UUID) -> bool:
        return await User.filter(email=email).exclude(id=other_than).using_db(self._conn).exists()

    async def change_email(
        self, user_id: uuid.UUID, old: str, new: str, now: datetime, verified_at: datetime | None
    ) -> bool:
        """Replace the address if it is still `old`, with when the new one was proven; False
        if the address is no longer `old`.

        An address another account took in the meantime is refused as taken.
        """
        try:
            changed = (
                await User.filter(id=user_id, email=old)
                .using_db(self._conn)
                .update(
                    email=new,
                    email_verified_at=verified_at,
                    updated_at=now,
                )
            )
        except IntegrityError as exc:
            raise EmailTaken(new, None, "") from exc
        return changed == 1
