"""Roles and groups of the organisation's apps: what exists, who holds what, and which roles and
groups a client may see. Separate from the provider's own admin/auditor roles (`User.role`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from provider.domain_errors import Conflict
from provider.storage.clients import storable_client_id
from provider.storage.models import AppGroup, AppGroupMember, AppRole, AppRoleGrant, Client

# The claims a client's filter applies to, each with a prefix and a list of names on `Client`.
FilteredClaim = Literal["roles", "groups"]


@dataclass(frozen=True, slots=True)
class UserAppAccess:
    """The roles a user holds directly, their groups, and every role either gives them."""

    roles: list[str]
    groups: list[str]
    effective_roles: list[str]


@dataclass(frozen=True, slots=True)
class GroupView:
    name: str
    description: str
    roles: list[str]
    members: int


class AppAccess:
    """Read and written on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    # --- roles ---------------------------------------------------------------------------------

    async def roles(self) -> list[AppRole]:
        return await AppRole.all().using_db(self._conn).order_by("name")

    async def create_role(self, name: str, description: str, now: datetime) -> AppRole:
        try:
            return await AppRole.create(
                id=uuid.uuid4(),
                name=name,
                description=description,
                created_at=now,
                using_db=self._conn,
            )
        except IntegrityError as exc:
            raise Conflict(f"A role named {name} exists already.") from exc

    async def delete_role(self, name: str) -> list[uuid.UUID] | None:
        """Delete the role; the users it reached (directly or through a group), None if there
        was no such role."""
        role = await AppRole.get_or_none(name=name, using_db=self._conn)
        if role is None:
            return None
        holders = await self._holders_of_role(role.id)
        await AppRole.filter(id=role.id).using_db(self._conn).delete()
        return holders

    async def missing_roles(self, names: list[str]) -> list[str]:
        found = set(
            await AppRole.filter(name__in=names).using_db(self._conn).values_list("name", flat=True)
        )
        return sorted(set(names) - found)

    # --- groups --------------------------------------------------------------------------------

    async def groups(self) -> list[GroupView]:
        groups = await AppGroup.all().using_db(self._conn).order_by("name")
        views = []
        for group in groups:
            roles = await self._role_names(group_id=group.id)
            members = await AppGroupMember.filter(group_id=group.id).using_db(self._conn).count()
            views.append(GroupView(group.name, group.description, roles, members))
        return views

    async def create_group(self, name: str, description: str, now: datetime) -> AppGroup:
        try:
            return await AppGroup.create(
                id=uuid.uuid4(),
                name=name,
                description=description,
                created_at=now,
                using_db=self._conn,
            )
        except IntegrityError as exc:
            raise Conflict(f"A group named {name} exists already.") from exc

    async def delete_group(self, name: str) -> list[uuid.UUID] | None:
        """Delete the group; its members, None if there was no such group."""
        group = await AppGroup.get_or_none(name=name, using_db=self._conn)
        if group is None:
            return None
        members = await self._members(group.id)
        await AppGroup.filter(id=group.id).using_db(self._conn).delete()
        return members

    async def missing_groups(self, names: list[str]) -> list[str]:
        found = set(
            await AppGroup.filter(name__in=names)
            .using_db(self._conn)
            .values_list("name", flat=True)
        )
        return sorted(set(names) - found)

    async def set_group_roles(self, name: str, roles: list[str]) -> list[uuid.UUID] | None:
        """The group carries exactly `roles` (which exist); its members, None if no group."""
        group = await AppGroup.get_or_none(name=name, using_db=self._conn)
        if group is None:
            return None
        await AppRoleGrant.filter(group_id=group.id).using_db(self._conn).delete()
        for role in await AppRole.filter(name__in=roles).using_db(self._conn):
            await AppRoleGrant.create(
                id=uuid.uuid4(), role_id=role.id, group_id=group.id, using_db=self._conn
            )
        return await self._members(group.id)

    # --- users ---------------------------------------------------------------------------------

    async def set_user_roles(self, user_id: uuid.UUID, roles: list[str]) -> None:
        """The user holds exactly `roles` directly (which exist)."""
        await AppRoleGrant.filter(user_id=user_id).using_db(self._conn).delete()
        for role in await AppRole.filter(name__in=roles).using_db(self._conn):
            await AppRoleGrant.create(
                id=uuid.uuid4(), role_id=role.id, user_id=user_id, using_db=self._conn
            )

    async def set_user_groups(self, user_id: uuid.UUID, groups: list[str]) -> None:
        """The user is a member of exactly `groups` (which exist)."""
        await AppGroupMember.filter(user_id=user_id).using_db(self._conn).delete()
        for group in await AppGroup.filter(name__in=groups).using_db(self._conn):
            await AppGroupMember.create(
                id=uuid.uuid4(), group_id=group.id, user_id=user_id, using_db=self._conn
            )

    async def of_user(self, user_id: uuid.UUID | str) -> UserAppAccess:
        direct = await self._role_names(user_id=user_id)
        group_ids = await (
            AppGroupMember.filter(user_id=user_id)
            .using_db(self._conn)
            .values_list("group_id", flat=True)
        )
        groups = sorted(
            await AppGroup.filter(id__in=list(group_ids))
            .using_db(self._conn)
            .values_list("name", flat=True)
        )
        through_groups = await self._role_names(group_id__in=list(group_ids)) if group_ids else []
        return UserAppAccess(
            roles=direct,
            groups=[str(name) for name in groups],
            effective_roles=sorted(set(direct) | set(through_groups)),
        )

    # --- clients -------------------------------------------------------------------------------

    async def set_client_filter(
        self, client_id: str, claim: FilteredClaim, prefix: str, names: list[str] | None
    ) -> bool:
        """Which roles or groups the client sees; False if there is no such client (or the id
        cannot be one)."""
        if not storable_client_id(client_id):
            return False
        kind = "role" if claim == "roles" else "group"
        updated = (
            await Client.filter(id=client_id)
            .using_db(self._conn)
            .update(**{f"app_{kind}_prefix": prefix, f"app_{kind}_names": names})
        )
        return updated == 1

    # --- helpers -------------------------------------------------------------------------------

    async def _role_names(self, **grant_filter: object) -> list[str]:
        role_ids = await (
            AppRoleGrant.filter(**grant_filter)
            .using_db(self._conn)
            .values_list("role_id", flat=True)
        )
        if not role_ids:
            return []
        names = await (
            AppRole.filter(id__in=list(role_ids))
            .using_db(self._conn)
            .values_list("name", flat=True)
        )
        return sorted(str(name) for name in names)

    async def _members(self, group_id: uuid.UUID) -> list[uuid.UUID]:
        user_ids = await (
            AppGroupMember.filter(group_id=group_id)
            .using_db(self._conn)
            .values_list("user_id", flat=True)
        )
        return [uuid.UUID(str(user_id)) for user_id in user_ids]

    async def _holders_of_role(self, role_id: uuid.UUID) -> list[uuid.UUID]:
        grants = await AppRoleGrant.filter(role_id=role_id).using_db(self._conn)
        users = {str(grant.user_id) for grant in grants if grant.user_id is not None}
        for grant in grants:
            if grant.group_id is not None:
                members = await self._members(uuid.UUID(str(grant.group_id)))
                users.update(str(member) for member in members)
        return [uuid.UUID(user) for user in sorted(users)]
