"""Passkeys: the WebAuthn credentials of users, on the caller's connection or transaction.

A credential id belongs to one passkey in the whole table (WebAuthn L3 §7.1 step 26: the Relying
Party refuses a registration whose credential id is already registered); a concurrent
registration of the same id fails the unique constraint. Advancing the signature counter is a
conditional update on the count that was read, so two concurrent assertions with the same
counter cannot both pass.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from provider.storage.models import Passkey, User


class DuplicateCredential(Exception):
    """The credential id is registered already (to this user or another one)."""


@dataclass(frozen=True, slots=True)
class NewPasskey:
    """What a verified registration gives: the credential and how the authenticator keeps it."""

    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]
    name: str
    aaguid: str
    backup_eligible: bool
    backed_up: bool


class Passkeys:
    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def add(self, user_id: uuid.UUID | str, new: NewPasskey, now: datetime) -> Passkey:
        try:
            return await Passkey.create(
                id=uuid.uuid4(),
                user_id=user_id,
                credential_id=new.credential_id,
                public_key=new.public_key,
                sign_count=new.sign_count,
                transports=new.transports,
                name=new.name,
                aaguid=new.aaguid,
                backup_eligible=new.backup_eligible,
                backed_up=new.backed_up,
                created_at=now,
                using_db=self._conn,
            )
        except IntegrityError as exc:
            raise DuplicateCredential() from exc

    async def find(self, credential_id: str) -> Passkey | None:
        return await Passkey.get_or_none(credential_id=credential_id, using_db=self._conn)

    async def of_user(self, user_id: uuid.UUID | str) -> list[Passkey]:
        return (
            await Passkey.filter(user_id=user_id)
            .using_db(self._conn)
            .order_by("created_at", "name")
        )

    async def get(self, user_id: uuid.UUID | str, passkey_id: uuid.UUID | str) -> Passkey | None:
        return await Passkey.get_or_none(id=passkey_id, user_id=user_id, using_db=self._conn)

    async def user_handle(self, user_id: uuid.UUID | str, candidate: str) -> str:
        """The user's WebAuthn user handle; `candidate` becomes it when there is none yet (a
        conditional update, so two concurrent first registrations agree on one)."""
        await (
            User.filter(id=user_id, passkey_user_handle=None)
            .using_db(self._conn)
            .update(passkey_user_handle=candidate)
        )
        user = await User.get(id=user_id, using_db=self._conn)
        assert user.passkey_user_handle is not None, "set just now, or before"
        return user.passkey_user_handle

    async def count(self, user_id: uuid.UUID | str) -> int:
        return await Passkey.filter(user_id=user_id).using_db(self._conn).count()

    async def used(
        self,
        passkey_id: uuid.UUID | str,
        *,
        seen_count: int,
        new_count: int,
        backed_up: bool,
        now: datetime,
    ) -> bool:
        """Record an accepted assertion; False when the counter moved since `seen_count` was
        read (a concurrent assertion won)."""
        updated = (
            await Passkey.filter(id=passkey_id, sign_count=seen_count)
            .using_db(self._conn)
            .update(sign_count=new_count, backed_up=backed_up, last_used_at=now)
        )
        return updated == 1

    async def rename(
        self, user_id: uuid.UUID | str, passkey_id: uuid.UUID | str, name: str
    ) -> bool:
        updated = (
            await Passkey.filter(id=passkey_id, user_id=user_id)
            .using_db(self._conn)
            .update(name=name)
        )
        return updated == 1

    async def remove(self, user_id: uuid.UUID | str, passkey_id: uuid.UUID | str) -> bool:
        deleted = await Passkey.filter(id=passkey_id, user_id=user_id).using_db(self._conn).delete()
        return deleted == 1
