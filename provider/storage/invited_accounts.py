"""Accounts made by someone else (an administrator's invitation, the first administrator from the
environment): found by address, created without a usable password."""

from __future__ import annotations

import uuid

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from provider.storage.models import User


class InvitedAccounts:
    """Queries on one connection (the unit of work's)."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn

    async def by_email(self, email: str) -> User | None:
        """The account with this normalized address, deleted or not."""
        return await User.filter(email=email).using_db(self.conn).first()

    async def create(self, *, email: str, name: str, role: str, password_hash: str) -> User | None:
        """A new account, or None when the address (or a racing insert of it) is taken."""
        try:
            return await User.create(
                id=uuid.uuid4(),
                email=email,
                name=name,
                password_hash=password_hash,
                role=role,
                using_db=self.conn,
            )
        except IntegrityError:
            return None
