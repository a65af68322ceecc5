"""Upstream identity providers and the accounts users hold there, linked to local users.

`IdentityProviders` keeps the configuration (the client secret arrives sealed: the store never
sees it in clear); `FederatedIdentities` keeps the links, one per provider and user, and each
upstream subject linked to one user at most. Both work on the caller's connection or transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from provider.storage.models import FederatedIdentity, IdentityProvider, User


class DuplicateRecord(Exception):
    """A link or an account that a concurrent sign-in wrote first (a unique constraint)."""


class IdentityProviders:
    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def all(self) -> list[IdentityProvider]:
        return await IdentityProvider.all().using_db(self._conn).order_by("name", "slug")

    async def offered(self) -> list[IdentityProvider]:
        """The providers a sign-in page shows: enabled, and with a client id to use."""
        return [p for p in await self.all() if p.enabled and p.client_id]

    async def get(self, slug: str) -> IdentityProvider | None:
        return await IdentityProvider.get_or_none(slug=slug, using_db=self._conn)

    async def add(self, slug: str, values: dict[str, Any]) -> IdentityProvider | None:
        """The new provider, or None when `slug` is taken (checked first; a concurrent add fails
        the primary key, and the caller's transaction with it)."""
        if await IdentityProvider.exists(slug=slug, using_db=self._conn):
            return None
        return await IdentityProvider.create(slug=slug, **values, using_db=self._conn)

    async def update(self, slug: str, changes: dict[str, Any]) -> IdentityProvider | None:
        """Apply `changes`; None when there is no such provider."""
        found = await self.get(slug)
        if found is None:
            return None
        if changes:
            found.update_from_dict(changes)
            await found.save(using_db=self._conn)
        return found

    async def remove(self, slug: str) -> bool:
        """Delete the provider and, with it, every link to it."""
        return await IdentityProvider.filter(slug=slug).using_db(self._conn).delete() > 0


class FederatedIdentities:
    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def find(self, provider: str, subject: str) -> FederatedIdentity | None:
        return await FederatedIdentity.get_or_none(
            provider_id=provider, subject=subject, using_db=self._conn
        )

    async def of_user(self, user_id: uuid.UUID | str) -> list[FederatedIdentity]:
        return (
            await FederatedIdentity.filter(user_id=user_id)
            .using_db(self._conn)
            .order_by("provider_id")
        )

    async def link(
        self, provider: str, subject: str, user_id: uuid.UUID | str, email: str, now: datetime
    ) -> FederatedIdentity:
        """A new link. The caller checked that neither the subject nor the user has one at
        `provider`; a concurrent link fails the unique constraint, and the transaction with it."""
        try:
            return await FederatedIdentity.create(
                id=uuid.uuid4(),
                provider_id=provider,
                subject=subject,
                user_id=user_id,
                email=email,
                linked_at=now,
                using_db=self._conn,
            )
        except IntegrityError as exc:
            raise DuplicateRecord() from exc

    async def used(self, identity_id: uuid.UUID | str, email: str, now: datetime) -> None:
        """A sign-in through the link: when, and the email the upstream asserted this time."""
        await (
            FederatedIdentity.filter(id=identity_id)
            .using_db(self._conn)
            .update(last_used_at=now, email=email)
        )

    async def unlink(self, user_id: uuid.UUID | str, provider: str) -> bool:
        deleted = (
            await FederatedIdentity.filter(user_id=user_id, provider_id=provider)
            .using_db(self._conn)
            .delete()
        )
        return deleted > 0


async def user_by_id(conn: BaseDBAsyncClient, user_id: uuid.UUID | str) -> User | None:
    return await User.get_or_none(id=user_id, using_db=conn)


async def user_by_email(conn: BaseDBAsyncClient, email: str) -> User | None:
    return await User.get_or_none(email=email, using_db=conn)


async def create_passwordless_user(
    conn: BaseDBAsyncClient, *, email: str, name: str, verified_at: datetime | None
) -> User:
    """An account with no password: its owner may set one through the reset flow. An email
    taken meanwhile fails the unique constraint (DuplicateRecord), and the caller's transaction
    with it."""
    try:
        return await User.create(
            id=uuid.uuid4(),
            email=email,
            name=name,
            password_hash="",
            email_verified_at=verified_at,
            using_db=conn,
        )
    except IntegrityError as exc:
        raise DuplicateRecord() from exc
