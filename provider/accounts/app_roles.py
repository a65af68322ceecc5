"""Roles and groups of the organisation's apps, as an administrator manages them.

These are not the provider's own admin/auditor roles: they exist only to reach the apps, in the
`roles` and `groups` claims of the tokens a client is issued (`provider.oauth.app_claims`). A
change takes effect at the user's next token. Every change that alters what a user holds writes
`user.roles_changed` for that user (audit row and `auth:user.roles_changed` event), with the
roles and groups they now have, so apps can react.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from provider.cache.events import EventPublisher
from provider.context import Caller
from provider.domain_errors import NotFound, Phrase, ValidationFailed
from provider.storage.app_access import AppAccess, FilteredClaim, GroupView, UserAppAccess
from provider.storage.db import default_connection
from provider.storage.models import AppRole, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow
from provider.storage.users import Users

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._/-]{0,127}$")
NAME_RULE = (
    "must be 1-128 letters, digits, ':', '.', '_', '/' or '-', starting with a letter or digit"
)
# The rule for one refused name, %(name)s, as a whole sentence.
NAMED_RULE = (
    "%(name)s must be 1-128 letters, digits, ':', '.', '_', '/' or '-', starting with a letter or "
    "digit"
)


def _checked_names(field: str, names: Iterable[str]) -> list[str]:
    names = list(names)
    bad = [name for name in names if not _NAME.match(name)]
    if bad:
        raise ValidationFailed({field: [Phrase(NAMED_RULE, name=repr(name)) for name in bad]})
    return sorted(set(names))


def _description(value: str) -> str:
    text = value.strip()
    if len(text) > 512 or any(ord(char) < 0x20 for char in text):
        raise ValidationFailed({"description": ["must be at most 512 characters, one line"]})
    return text


async def list_roles() -> list[AppRole]:
    return await AppAccess(default_connection()).roles()


async def list_groups() -> list[GroupView]:
    return await AppAccess(default_connection()).groups()


async def access_of(user_id: uuid.UUID) -> UserAppAccess:
    await _target(user_id)
    return await AppAccess(default_connection()).of_user(user_id)


async def create_role(
    events: EventPublisher, caller: Caller, admin: User | None, name: str, description: str = ""
) -> AppRole:
    [checked] = _checked_names("name", [name])
    async with unit_of_work(caller, events) as work:
        role = await AppAccess(work.conn).create_role(checked, _description(description), utcnow())
        await work.audit("admin.app_role_created", user_id=_id(admin), details={"role": checked})
    return role


async def delete_role(
    events: EventPublisher, caller: Caller, admin: User | None, name: str
) -> None:
    # A name the rule refuses can name no role (and may not fit its column).
    if not _NAME.match(name):
        raise NotFound("No such role.")
    async with unit_of_work(caller, events) as work:
        store = AppAccess(work.conn)
        holders = await store.delete_role(name)
        if holders is None:
            raise NotFound("No such role.")
        await work.audit("admin.app_role_deleted", user_id=_id(admin), details={"role": name})
        await _announce(work, store, holders, admin)


async def create_group(
    events: EventPublisher, caller: Caller, admin: User | None, name: str, description: str = ""
) -> None:
    [checked] = _checked_names("name", [name])
    async with unit_of_work(caller, events) as work:
        await AppAccess(work.conn).create_group(checked, _description(description), utcnow())
        await work.audit("admin.app_group_created", user_id=_id(admin), details={"group": checked})


async def delete_group(
    events: EventPublisher, caller: Caller, admin: User | None, name: str
) -> None:
    if not _NAME.match(name):
        raise NotFound("No such group.")
    async with unit_of_work(caller, events) as work:
        store = AppAccess(work.conn)
        members = await store.delete_group(name)
        if members is None:
            raise NotFound("No such group.")
        await work.audit("admin.app_group_deleted", user_id=_id(admin), details={"group": name})
        await _announce(work, store, members, admin)


async def set_group_roles(
    events: EventPublisher, caller: Caller, admin: User | None, name: str, roles: Iterable[str]
) -> list[str]:
    checked = _checked_names("roles", roles)
    async with unit_of_work(caller, events) as work:
        store = AppAccess(work.conn)
        await _all_exist(store, roles=checked)
        members = await store.set_group_roles(name, checked)
        if members is None:
            raise NotFound("No such group.")
        await work.audit(
            "admin.app_group_roles_set",
            user_id=_id(admin),
            details={"group": name, "roles": checked},
        )
        await _announce(work, store, members, admin)
    return checked


async def set_user_access(
    events: EventPublisher,
    caller: Caller,
    admin: User | None,
    user_id: uuid.UUID,
    *,
    roles: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
) -> UserAppAccess:
    """Replace the user's direct roles and/or their groups (None leaves one as it is)."""
    target = await _target(user_id)
    checked_roles = None if roles is None else _checked_names("roles", roles)
    checked_groups = None if groups is None else _checked_names("groups", groups)
    async with unit_of_work(caller, events) as work:
        store = AppAccess(work.conn)
        await _all_exist(store, roles=checked_roles or [], groups=checked_groups or [])
        before = await store.of_user(target.id)
        if checked_roles is not None:
            await store.set_user_roles(target.id, checked_roles)
        if checked_groups is not None:
            await store.set_user_groups(target.id, checked_groups)
        after = await store.of_user(target.id)
        if after != before:
            await _roles_changed(work, target.id, after, admin)
    return after


async def set_client_filter(
    events: EventPublisher,
    caller: Caller,
    admin: User | None,
    client_id: str,
    claim: FilteredClaim,
    *,
    prefix: str,
    names: list[str] | None,
) -> None:
    """Which roles (or groups) the client sees in that claim: `names` when given, else those
    starting with `prefix`. Audited as admin.client_role_filter_set / …_group_filter_set."""
    if prefix and not _NAME.match(prefix):
        raise ValidationFailed({"prefix": [NAME_RULE]})
    checked = None if names is None else _checked_names("names", names)
    async with unit_of_work(caller, events) as work:
        if not await AppAccess(work.conn).set_client_filter(client_id, claim, prefix, checked):
            raise NotFound("No such client.")
        work.client_changed(client_id)
        await work.audit(
            f"admin.client_{claim.removesuffix('s')}_filter_set",
            user_id=_id(admin),
            client_id=client_id,
            details={"prefix": prefix, "names": checked},
        )


async def _target(user_id: uuid.UUID) -> User:
    user = await Users(default_connection()).by_id(user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("No such user.")
    return user


async def _all_exist(
    store: AppAccess, *, roles: list[str] | None = None, groups: list[str] | None = None
) -> None:
    problems: dict[str, list[str]] = {}
    missing_roles = await store.missing_roles(list(roles)) if roles else []
    if missing_roles:
        problems["roles"] = [
            Phrase("%(name)s does not exist", name=repr(name)) for name in missing_roles
        ]
    missing_groups = await store.missing_groups(list(groups)) if groups else []
    if missing_groups:
        problems["groups"] = [
            Phrase("%(name)s does not exist", name=repr(name)) for name in missing_groups
        ]
    if problems:
        raise ValidationFailed(problems)


async def _announce(
    work: UnitOfWork, store: AppAccess, user_ids: list[uuid.UUID], admin: User | None
) -> None:
    for user_id in user_ids:
        await _roles_changed(work, user_id, await store.of_user(user_id), admin)


async def _roles_changed(
    work: UnitOfWork, user_id: uuid.UUID, access: UserAppAccess, admin: User | None
) -> None:
    await work.audit(
        "user.roles_changed",
        user_id=user_id,
        details={
            "roles": access.effective_roles,
            "groups": access.groups,
            "changed_by": _id(admin) or "cli",
        },
    )


def _id(admin: User | None) -> str | None:
    return str(admin.id) if admin is not None else None
