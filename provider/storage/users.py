"""The user reads of the adapters: one account by id, and the admin's filtered, sorted pages.

Pages are keyset pages on (sort key, id): users who register, or change, while someone pages
shift no page, so a page never repeats a row of the one before nor skips one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from provider.storage.models import User

UserSort = Literal["created_at", "-created_at", "email"]
UserStatus = Literal["active", "locked", "deleted", "unverified"]
USER_SORTS: tuple[UserSort, ...] = ("created_at", "-created_at", "email")


@dataclass(frozen=True, slots=True)
class UserFilter:
    """What an admin searches by; None matches everything.

    `text` matches email, username or name, case-insensitively. `status` is the one word of
    `provider.accounts.administration.user_status`: deleted wins over locked, locked over
    unverified, and "active" is what is left.
    """

    text: str | None = None
    role: str | None = None
    status: UserStatus | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class Users:
    """The user rows, read on the caller's connection."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def by_id(self, user_id: uuid.UUID) -> User | None:
        # Userinfo reads its user here on every request: a plain parameterised SELECT skips the
        # query builder (as `Clients.find` does).
        placeholder = "$1" if self._conn.capabilities.dialect == "postgres" else "?"
        rows = await self._conn.execute_query_dict(
            f'SELECT * FROM "users" WHERE "id" = {placeholder}',  # noqa: S608 - constant SQL
            [str(user_id)],
        )
        return User._init_from_db(**rows[0]) if rows else None

    async def page(
        self,
        filters: UserFilter,
        *,
        sort: UserSort,
        after: tuple[str | datetime, uuid.UUID] | None,
        limit: int,
        now: datetime,
    ) -> tuple[list[User], bool]:
        """Up to `limit` users matching `filters` in `sort` order, after the position `after`
        (the sort key and id of the last user of the page before); and whether more follow."""
        query = _filtered(User.all().using_db(self._conn), filters, now)
        if after is not None:
            query = _after(query, sort, after)
        users = await query.order_by(*_ORDER[sort]).limit(limit + 1)
        return users[:limit], len(users) > limit


_ORDER: dict[UserSort, tuple[str, str]] = {
    "email": ("email", "id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


def sort_key(user: User, sort: UserSort) -> str | datetime:
    """The value of `user` that a page in `sort` order is keyed on."""
    return user.email if sort == "email" else user.created_at


def _filtered(query: QuerySet[User], filters: UserFilter, now: datetime) -> QuerySet[User]:
    if filters.text is not None:
        text = filters.text
        query = query.filter(
            Q(email__icontains=text) | Q(username__icontains=text) | Q(name__icontains=text)
        )
    if filters.role is not None:
        query = query.filter(role=filters.role)
    if filters.status is not None:
        query = _with_status(query, filters.status, now)
    if filters.created_from is not None:
        query = query.filter(created_at__gte=filters.created_from)
    if filters.created_to is not None:
        query = query.filter(created_at__lte=filters.created_to)
    return query


def _with_status(query: QuerySet[User], status: UserStatus, now: datetime) -> QuerySet[User]:
    if status == "deleted":
        return query.filter(deleted_at__isnull=False)
    query = query.filter(deleted_at__isnull=True)
    if status == "locked":
        return query.filter(locked_until__gt=now)
    not_locked = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    if status == "unverified":
        return query.filter(not_locked, email_verified_at__isnull=True)
    return query.filter(not_locked, email_verified_at__isnull=False)


def _after(
    query: QuerySet[User], sort: UserSort, after: tuple[str | datetime, uuid.UUID]
) -> QuerySet[User]:
    key, after_id = after
    if sort == "email":
        return query.filter(Q(email__gt=key) | Q(email=key, id__gt=after_id))
    if sort == "created_at":
        return query.filter(Q(created_at__gt=key) | Q(created_at=key, id__gt=after_id))
    return query.filter(Q(created_at__lt=key) | Q(created_at=key, id__lt=after_id))
