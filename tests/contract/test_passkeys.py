"""Passkeys contract: one passkey per credential id in the whole table, a user's passkeys in the
order they were added, the counter advanced only from the count that was read, and renames and
removals only of the user's own."""

from __future__ import annotations

import uuid

import pytest
from tortoise.transactions import in_transaction

from provider.storage.db import default_connection
from provider.storage.models import Passkey, User
from provider.storage.passkeys import DuplicateCredential, NewPasskey, Passkeys
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session


def _new(credential_id: str, name: str = "Phone") -> NewPasskey:
    return NewPasskey(
        credential_id=credential_id,
        public_key=b"\xa5\x01\x02\x03\x26",
        sign_count=3,
        transports=["internal", "hybrid"],
        name=name,
        aaguid="00000000-0000-0000-0000-000000000000",
        backup_eligible=True,
        backed_up=False,
    )


async def test_a_passkey_is_found_by_credential_id_and_listed_for_its_user(backend: str) -> None:
    session = await make_session()
    store = Passkeys(default_connection())
    first = await store.add(session.user_id, _new("cred-a", "Laptop"), utcnow())
    await store.add(session.user_id, _new("cred-b", "Phone"), utcnow())
    found = await store.find("cred-a")
    assert found is not None
    assert (found.id, str(found.user_id), found.public_key, found.sign_count) == (
        first.id,
        str(session.user_id),
        b"\xa5\x01\x02\x03\x26",
        3,
    )
    assert (found.transports, found.backup_eligible, found.backed_up) == (
        ["internal", "hybrid"],
        True,
        False,
    )
    assert found.last_used_at is None
    assert await store.find("cred-missing") is None
    assert [p.name for p in await store.of_user(session.user_id)] == ["Laptop", "Phone"]
    assert await store.count(session.user_id) == 2
    assert await store.get(session.user_id, first.id) is not None
    assert await store.get(uuid.uuid4(), first.id) is None


async def test_a_credential_id_is_registered_once_whoever_registers_it(backend: str) -> None:
    owner = await make_session()
    other = await make_session()
    await Passkeys(default_connection()).add(owner.user_id, _new("cred-a"), utcnow())
    for user_id in (owner.user_id, other.user_id):
        with pytest.raises(DuplicateCredential):
            async with in_transaction() as conn:
                await Passkeys(conn).add(user_id, _new("cred-a"), utcnow())
    assert await Passkey.filter(credential_id="cred-a").count() == 1


async def test_the_counter_moves_only_from_the_count_that_was_read(backend: str) -> None:
    session = await make_session()
    store = Passkeys(default_connection())
    passkey = await store.add(session.user_id, _new("cred-a"), utcnow())
    now = utcnow()
    assert await store.used(passkey.id, seen_count=3, new_count=7, backed_up=True, now=now)
    # A second assertion that read the same count loses.
    assert not await store.used(passkey.id, seen_count=3, new_count=8, backed_up=True, now=now)
    found = await store.find("cred-a")
    assert found is not None
    assert (found.sign_count, found.backed_up, found.last_used_at is not None) == (7, True, True)


async def test_rename_and_remove_touch_only_the_users_own(backend: str) -> None:
    owner = await make_session()
    other = await make_session()
    store = Passkeys(default_connection())
    passkey = await store.add(owner.user_id, _new("cred-a"), utcnow())
    assert not await store.rename(other.user_id, passkey.id, "Mine now")
    assert not await store.remove(other.user_id, passkey.id)
    assert await store.rename(owner.user_id, passkey.id, "Work key")
    found = await store.find("cred-a")
    assert found is not None
    assert found.name == "Work key"
    assert await store.remove(owner.user_id, passkey.id)
    assert not await store.remove(owner.user_id, passkey.id)
    assert await store.of_user(owner.user_id) == []


async def test_passkeys_go_with_their_user(backend: str) -> None:
    session = await make_session()
    await Passkeys(default_connection()).add(session.user_id, _new("cred-a"), utcnow())
    await User.filter(id=session.user_id).delete()
    assert await Passkeys(default_connection()).find("cred-a") is None


async def test_a_user_handle_is_made_once_per_user(backend: str) -> None:
    session = await make_session()
    store = Passkeys(default_connection())
    assert await store.user_handle(session.user_id, "first") == "first"
    # A later (or concurrent) first registration gets the handle already made.
    assert await store.user_handle(session.user_id, "second") == "first"
    other = await make_session()
    assert await store.user_handle(other.user_id, "other") == "other"
