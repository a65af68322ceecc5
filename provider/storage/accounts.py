"""The account rows the domain reads and writes: users, their backup codes, and what an
administrator sees of an account's recent activity.

Spending a second factor is a conditional update whose row count must be 1 (`claim_totp_step`,
`BackupCodes.claim`), so of two concurrent requests with the same code exactly one wins on every
database. Each store works on the connection it is given: a unit of work's, or
`provider.storage.db.default_connection()` for a lone statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from provider.storage.models import AuditEvent, BackupCode, Session, User


class DuplicateAccount(Exception):
    """A new user's email or username belongs to another account already."""


class UserRecords:
    """The user rows: found by id, email or username; changed field by field or conditionally."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def by_id(self, user_id: uuid.UUID | str) -> User | None:
        return await User.get_or_none(id=user_id, using_db=self._conn)

    async def by_email(self, email: str) -> User | None:
        """The account of a normalized address, deleted or not (addresses are never reused)."""
        return await User.get_or_none(email=email, using_db=self._conn)

    async def live_by_email(self, email: str) -> User | None:
        """The account of a normalized address unless it is deleted."""
        return await User.get_or_none(email=email, deleted_at=None, using_db=self._conn)

    async def by_username(self, username: str) -> User | None:
        return await User.get_or_none(username=username, using_db=self._conn)

    async def email_taken(self, email: str) -> bool:
        return await User.filter(email=email).using_db(self._conn).exists()

    async def username_taken(self, username: str) -> bool:
        return await User.filter(username=username).using_db(self._conn).exists()

    async def insert(self, **fields: Any) -> User:
        """A new user row; DuplicateAccount when its email or username is taken."""
        try:
            return await User.create(id=uuid.uuid4(), using_db=self._conn, **fields)
        except IntegrityError as exc:
            raise DuplicateAccount() from exc

    async def update(self, user_id: uuid.UUID | str, **changes: Any) -> None:
        """Write `changes` to the user's row as given (`updated_at` only when it is among them)."""
        await User.filter(id=user_id).using_db(self._conn).update(**changes)

    async def claim_totp_step(
        self, user_id: uuid.UUID | str, sealed_secret: str, step: int
    ) -> bool:
        """Record `step` as the last accepted TOTP step, if it is later than the last one and the
        secret is still `sealed_secret`; False when another request claimed it (or a later one)."""
        claimed = (
            await User.filter(id=user_id, totp_secret=sealed_secret)
            .filter(Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step))
            .using_db(self._conn)
            .update(totp_last_step=step)
        )
        return claimed == 1

    async def enable_totp(
        self, user_id: uuid.UUID | str, pending: str, step: int, now: datetime
    ) -> bool:
        """Turn the pending secret into the active one, if it is still the pending one and TOTP
        is not on yet; False when the enrolment changed meanwhile."""
        claimed = (
            await User.filter(id=user_id, totp_pending_secret=pending, totp_enabled_at=None)
            .using_db(self._conn)
            .update(
                totp_secret=pending,
                totp_pending_secret=None,
                totp_enabled_at=now,
                totp_last_step=step,
            )
        )
        return claimed == 1

    async def remove_totp(self, user_id: uuid.UUID | str, **changes: Any) -> None:
        """Forget the active and pending TOTP secrets (with any other `changes`)."""
        await self.update(
            user_id,
            totp_secret=None,
            totp_pending_secret=None,
            totp_enabled_at=None,
            totp_last_step=None,
            **changes,
        )

    async def mark_deleted(self, user_id: uuid.UUID | str, now: datetime) -> bool:
        """Soft-delete the user; False when it already was deleted."""
        changed = (
            await User.filter(id=user_id, deleted_at__isnull=True)
            .using_db(self._conn)
            .update(deleted_at=now, updated_at=now)
        )
        return changed == 1

    async def mark_restored(self, user_id: uuid.UUID | str, now: datetime) -> bool:
        """Undo a soft deletion; False when the user was not deleted."""
        changed = (
            await User.filter(id=user_id, deleted_at__isnull=False)
            .using_db(self._conn)
            .update(deleted_at=None, purge_after=None, updated_at=now)
        )
        return changed == 1


class BackupCodes:
    """The single-use backup codes of a user's second factor, stored as keyed hashes."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def replace(
        self, user_id: uuid.UUID | str, code_hashes: Sequence[str], now: datetime
    ) -> None:
        """The user's codes become exactly these; every earlier one stops working."""
        await self.delete_all(user_id)
        await BackupCode.bulk_create(
            [
                BackupCode(id=uuid.uuid4(), user_id=user_id, code_hash=code_hash, created_at=now)
                for code_hash in code_hashes
            ],
            using_db=self._conn,
        )

    async def claim(self, user_id: uuid.UUID | str, code_hash: str, now: datetime) -> bool:
        """Spend an unused code of the user; False when it is unknown or already spent."""
        claimed = (
            await BackupCode.filter(user_id=user_id, code_hash=code_hash, used_at=None)
            .using_db(self._conn)
            .update(used_at=now)
        )
        return claimed == 1

    async def remaining(self, user_id: uuid.UUID | str) -> int:
        return await BackupCode.filter(user_id=user_id, used_at=None).using_db(self._conn).count()

    async def delete_all(self, user_id: uuid.UUID | str) -> None:
        await BackupCode.filter(user_id=user_id).using_db(self._conn).delete()


class AccountActivity:
    """What an administrator sees of an account's use: its sessions and its sign-ins."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def recent_sessions(self, user_id: uuid.UUID | str, limit: int) -> list[Session]:
        """The user's sessions, ended or not, newest first."""
        return (
            await Session.filter(user_id=user_id)
            .using_db(self._conn)
            .order_by("-created_at")
            .limit(limit)
        )

    async def recent_logins(self, user_id: uuid.UUID | str, limit: int) -> list[AuditEvent]:
        """The user's `user.login` audit rows, newest first."""
        return (
            await AuditEvent.filter(user_id=user_id, event="user.login")
            .using_db(self._conn)
            .order_by("-id")
            .limit(limit)
        )
