"""A user deleting their own account: the soft delete with its grace period, the restore within
it, and the purge after it that erases the person and keeps only anonymised audit rows."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import AuditEvent, User


class AccountDeletion:
    """Written on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def other_active_admins(self, user_id: uuid.UUID) -> int:
        return (
            await User.filter(role="admin", deleted_at__isnull=True)
            .exclude(id=user_id)
            .using_db(self._conn)
            .count()
        )

    async def mark_deleted(self, user_id: uuid.UUID, now: datetime, purge_after: datetime) -> bool:
        """Soft delete a live account; False if it was deleted already."""
        changed = await (
            User.filter(id=user_id, deleted_at__isnull=True)
            .using_db(self._conn)
            .update(deleted_at=now, purge_after=purge_after, updated_at=now)
        )
        return changed == 1

    async def restore(self, user_id: uuid.UUID, now: datetime) -> bool:
        """Undo the user's own deletion while its grace period runs; False otherwise."""
        changed = await (
            User.filter(id=user_id, deleted_at__isnull=False, purge_after__gt=now)
            .using_db(self._conn)
            .update(deleted_at=None, purge_after=None, updated_at=now)
        )
        return changed == 1

    async def due(self, now: datetime, limit: int = 100) -> list[uuid.UUID]:
        """Accounts whose grace period is over, oldest first."""
        ids = await (
            User.filter(deleted_at__isnull=False, purge_after__lte=now)
            .using_db(self._conn)
            .order_by("purge_after")
            .limit(limit)
            .values_list("id", flat=True)
        )
        return [uuid.UUID(str(user_id)) for user_id in ids]

    async def purge(self, user_id: uuid.UUID, now: datetime) -> bool:
        """Erase the account: the user row and everything hanging off it (sessions, tokens,
        consents, codes, roles) go; the audit rows about the user stay, with no address, agent
        or details left. False if it is no longer due (restored meanwhile, or gone)."""
        deleted = await (
            User.filter(id=user_id, deleted_at__isnull=False, purge_after__lte=now)
            .using_db(self._conn)
            .delete()
        )
        # SQLite counts the rows its foreign keys cascaded to as well: any count means it went.
        if not deleted:
            return False
        await (
            AuditEvent.filter(user_id=user_id)
            .using_db(self._conn)
            .update(ip="", user_agent="", details={})
        )
        return True
