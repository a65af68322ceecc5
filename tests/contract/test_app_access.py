"""AppAccess contract: roles and groups, a user's direct roles and groups, the roles that reach
them through groups, who a change reaches, and a client's role filter."""

from __future__ import annotations

import pytest

from provider.domain_errors import Conflict
from provider.storage.app_access import AppAccess, GroupView, UserAppAccess
from provider.storage.db import default_connection
from provider.storage.models import Client
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session


async def _store_with_roles() -> AppAccess:
    store = AppAccess(default_connection())
    for role in ("billing:admin", "wiki:editor", "wiki:reader"):
        await store.create_role(role, "", utcnow())
    await store.create_group("staff", "Staff", utcnow())
    return store


async def test_names_are_unique(backend: str) -> None:
    store = await _store_with_roles()
    with pytest.raises(Conflict):
        await store.create_role("wiki:editor", "", utcnow())
    with pytest.raises(Conflict):
        await store.create_group("staff", "", utcnow())
    assert [role.name for role in await store.roles()] == [
        "billing:admin",
        "wiki:editor",
        "wiki:reader",
    ]
    assert await store.missing_roles(["wiki:editor", "nope"]) == ["nope"]
    assert await store.missing_groups(["staff", "nobody"]) == ["nobody"]


async def test_roles_reach_users_directly_and_through_groups(backend: str) -> None:
    store = await _store_with_roles()
    ada, grace = await make_session(), await make_session()
    assert await store.of_user(ada.user_id) == UserAppAccess([], [], [])
    await store.set_user_roles(ada.user_id, ["billing:admin", "wiki:editor"])
    members = await store.set_group_roles("staff", ["wiki:editor", "wiki:reader"])
    assert members == []
    await store.set_user_groups(ada.user_id, ["staff"])
    assert await store.of_user(ada.user_id) == UserAppAccess(
        roles=["billing:admin", "wiki:editor"],
        groups=["staff"],
        effective_roles=["billing:admin", "wiki:editor", "wiki:reader"],
    )
    assert await store.of_user(grace.user_id) == UserAppAccess([], [], [])
    assert await store.groups() == [GroupView("staff", "Staff", ["wiki:editor", "wiki:reader"], 1)]
    assert await store.set_group_roles("nobody", []) is None
    # Setting replaces: what is not named any more is gone.
    await store.set_user_roles(ada.user_id, [])
    assert (await store.of_user(ada.user_id)).roles == []


async def test_deleting_tells_whom_it_reached(backend: str) -> None:
    store = await _store_with_roles()
    direct, member, other = await make_session(), await make_session(), await make_session()
    await store.set_user_roles(direct.user_id, ["wiki:reader"])
    await store.set_group_roles("staff", ["wiki:reader"])
    await store.set_user_groups(member.user_id, ["staff"])
    await store.set_user_roles(other.user_id, ["billing:admin"])
    reached = await store.delete_role("wiki:reader")
    assert sorted(map(str, reached or [])) == sorted([str(direct.user_id), str(member.user_id)])
    assert await store.delete_role("wiki:reader") is None
    assert (await store.of_user(member.user_id)).effective_roles == []
    assert await store.delete_group("staff") == [member.user_id]
    assert (await store.of_user(member.user_id)).groups == []
    assert (await store.of_user(other.user_id)).roles == ["billing:admin"]


async def test_a_clients_role_filter(backend: str) -> None:
    store = AppAccess(default_connection())
    await Client.create(id="billing", name="Billing")
    assert await store.set_client_filter("billing", "roles", "billing:", ["billing:admin"])
    client = await Client.get(id="billing")
    assert (client.app_role_prefix, client.app_role_names) == ("billing:", ["billing:admin"])
    assert (client.app_group_prefix, client.app_group_names) == ("", None)
    assert not await store.set_client_filter("nobody", "roles", "", None)


async def test_a_clients_group_filter(backend: str) -> None:
    store = AppAccess(default_connection())
    await Client.create(id="billing", name="Billing", app_role_prefix="billing:")
    assert await store.set_client_filter("billing", "groups", "finance-", None)
    client = await Client.get(id="billing")
    assert (client.app_group_prefix, client.app_group_names) == ("finance-", None)
    assert await store.set_client_filter("billing", "groups", "", ["auditors"])
    client = await Client.get(id="billing")
    assert (client.app_group_prefix, client.app_group_names) == ("", ["auditors"])
    assert (client.app_role_prefix, client.app_role_names) == ("billing:", None)
    assert not await store.set_client_filter("nobody", "groups", "", None)
