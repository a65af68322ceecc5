"""Account stores contract: users found by id, email and username; a duplicate refused as
DuplicateAccount; the conditional updates (a TOTP step, a pending secret, soft deletion) won by
exactly one of any number of concurrent requests; backup codes spent once; the admin's view of
recent sessions and sign-ins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from provider.storage.accounts import AccountActivity, BackupCodes, DuplicateAccount, UserRecords
from provider.storage.db import default_connection
from provider.storage.models import BackupCode, Session, User
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher, make_session

SEALED = "sealed-secret"


def _users() -> UserRecords:
    return UserRecords(default_connection())


async def _user(**fields: object) -> User:
    return await _users().insert(
        **{"email": f"{uuid.uuid4().hex[:12]}@example.com", "password_hash": "x", **fields}
    )


async def test_a_user_is_found_by_id_email_and_username(backend: str) -> None:
    users = _users()
    ada = await users.insert(email="ada@example.com", username="ada", password_hash="x")
    gone = await _user(email="gone@example.com", deleted_at=utcnow())
    assert (await users.by_id(ada.id)) == ada
    assert (await users.by_email("ada@example.com")) == ada
    assert (await users.by_username("ada")) == ada
    assert await users.live_by_email("ada@example.com") == ada
    assert await users.by_email("gone@example.com") == gone
    assert await users.live_by_email("gone@example.com") is None
    assert await users.by_id(uuid.uuid4()) is None
    assert await users.by_email("nobody@example.com") is None
    assert await users.by_username("nobody") is None
    assert await users.email_taken("ada@example.com")
    assert await users.username_taken("ada")
    assert not await users.email_taken("nobody@example.com")
    assert not await users.username_taken("nobody")


async def test_a_taken_email_or_username_is_a_duplicate_and_nothing_is_written(
    backend: str, publisher: RecordingPublisher
) -> None:
    await _user(email="ada@example.com", username="ada")
    for fields in ({"email": "ada@example.com"}, {"username": "ada"}):
        with pytest.raises(DuplicateAccount):
            async with unit_of_work(CALLER, publisher) as work:
                await UserRecords(work.conn).insert(
                    **{"email": "new@example.com", "password_hash": "x", **fields}
                )
    assert await User.all().count() == 1


async def test_update_writes_the_given_fields_only(backend: str) -> None:
    user = await _user(name="Ada")
    until = utcnow() + timedelta(minutes=5)
    await _users().update(user.id, locked_until=until, password_hash="new")
    row = await User.get(id=user.id)
    assert (row.locked_until, row.password_hash, row.name) == (until, "new", "Ada")


async def test_a_totp_step_is_claimed_once_and_only_forward(backend: str) -> None:
    user = await _user(totp_secret=SEALED, totp_enabled_at=utcnow())
    users = _users()
    assert await users.claim_totp_step(user.id, SEALED, 100)
    assert not await users.claim_totp_step(user.id, SEALED, 100)  # the same step again
    assert not await users.claim_totp_step(user.id, SEALED, 99)  # an earlier one
    assert not await users.claim_totp_step(user.id, "another-secret", 101)  # a replaced secret
    assert await users.claim_totp_step(user.id, SEALED, 101)
    assert (await User.get(id=user.id)).totp_last_step == 101


async def test_twenty_concurrent_claims_of_one_totp_step_have_one_winner(
    backend: str, publisher: RecordingPublisher
) -> None:
    user = await _user(totp_secret=SEALED, totp_enabled_at=utcnow())

    async def claim() -> bool:
        async with unit_of_work(CALLER, publisher) as work:
            return await UserRecords(work.conn).claim_totp_step(user.id, SEALED, 7)

    results = await asyncio.gather(*(claim() for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert (await User.get(id=user.id)).totp_last_step == 7


async def test_a_pending_secret_is_enabled_once(
    backend: str, publisher: RecordingPublisher
) -> None:
    user = await _user(totp_pending_secret=SEALED)
    now = utcnow()

    async def enable() -> bool:
        async with unit_of_work(CALLER, publisher) as work:
            return await UserRecords(work.conn).enable_totp(user.id, SEALED, 5, now)

    results = await asyncio.gather(*(enable() for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    row = await User.get(id=user.id)
    assert (row.totp_secret, row.totp_pending_secret, row.totp_last_step) == (SEALED, None, 5)
    assert row.totp_enabled_at == now
    # Another pending secret than the one confirmed is refused.
    assert not await _users().enable_totp(user.id, "stale", 6, now)


async def test_remove_totp_forgets_both_secrets(backend: str) -> None:
    user = await _user(
        totp_secret=SEALED, totp_pending_secret="p", totp_enabled_at=utcnow(), totp_last_step=3
    )
    now = utcnow()
    await _users().remove_totp(user.id, updated_at=now)
    row = await User.get(id=user.id)
    assert (row.totp_secret, row.totp_pending_secret, row.totp_enabled_at) == (None, None, None)
    assert row.totp_last_step is None
    assert row.updated_at == now


async def test_concurrent_soft_deletions_have_one_winner_and_restore_undoes_it(
    backend: str, publisher: RecordingPublisher
) -> None:
    user = await _user()
    now = utcnow()

    async def delete() -> bool:
        async with unit_of_work(CALLER, publisher) as work:
            return await UserRecords(work.conn).mark_deleted(user.id, now)

    results = await asyncio.gather(*(delete() for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    assert (await User.get(id=user.id)).deleted_at == now
    users = _users()
    assert await users.mark_restored(user.id, now)
    assert not await users.mark_restored(user.id, now)
    assert (await User.get(id=user.id)).deleted_at is None


async def test_backup_codes_are_replaced_and_each_spent_once(backend: str) -> None:
    user = await _user()
    other = await _user()
    codes = BackupCodes(default_connection())
    now = utcnow()
    await codes.replace(user.id, ["a" * 64, "b" * 64], now)
    await codes.replace(other.id, ["a" * 64], now)
    assert await codes.remaining(user.id) == 2
    assert await codes.claim(user.id, "a" * 64, now)
    assert not await codes.claim(user.id, "a" * 64, now)
    assert not await codes.claim(user.id, "c" * 64, now)
    assert await codes.remaining(user.id) == 1
    assert await codes.remaining(other.id) == 1  # another user's equal hash is their own
    # A new set replaces every earlier code, spent or not.
    await codes.replace(user.id, ["d" * 64], now)
    assert not await codes.claim(user.id, "b" * 64, now)
    assert await codes.remaining(user.id) == 1
    await codes.delete_all(user.id)
    assert await BackupCode.filter(user_id=user.id).count() == 0
    assert await codes.remaining(other.id) == 1


async def test_twenty_concurrent_claims_of_one_backup_code_have_one_winner(
    backend: str, publisher: RecordingPublisher
) -> None:
    user = await _user()
    await BackupCodes(default_connection()).replace(user.id, ["a" * 64], utcnow())

    async def claim() -> bool:
        async with unit_of_work(CALLER, publisher) as work:
            return await BackupCodes(work.conn).claim(user.id, "a" * 64, utcnow())

    results = await asyncio.gather(*(claim() for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert await BackupCodes(default_connection()).remaining(user.id) == 0


async def test_recent_activity_is_newest_first_and_bounded(
    backend: str, publisher: RecordingPublisher
) -> None:
    first = await make_session()
    user_id = first.user_id
    now = utcnow()
    second = await Session.create(
        id=uuid.uuid4(),
        user_id=user_id,
        created_at=now + timedelta(seconds=1),
        last_active_at=now,
        expires_at=now + timedelta(hours=1),
        auth_time=now,
        amr=["pwd"],
        acr="1",
    )
    await make_session()  # someone else's
    async with unit_of_work(CALLER, publisher) as work:
        for session in (first, second):
            await work.audit("user.login", user_id=user_id, session_id=session.id)
        await work.audit("user.logout", user_id=user_id)
    activity = AccountActivity(default_connection())
    assert [s.id for s in await activity.recent_sessions(user_id, 10)] == [second.id, first.id]
    assert [s.id for s in await activity.recent_sessions(user_id, 1)] == [second.id]
    logins = await activity.recent_logins(user_id, 10)
    assert [str(event.session_id) for event in logins] == [str(second.id), str(first.id)]
    assert len(await activity.recent_logins(user_id, 1)) == 1
