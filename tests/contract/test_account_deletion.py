"""AccountDeletion contract: the soft delete with its purge date, the restore within it, and the
purge that removes the account with what hangs off it and blanks its audit rows."""

from __future__ import annotations

from datetime import timedelta

from provider.storage.account_deletion import AccountDeletion
from provider.storage.db import default_connection
from provider.storage.models import AuditEvent, Session, User
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session


async def _audit(user_id: object) -> None:
    await AuditEvent.create(
        created_at=utcnow(),
        event="user.login",
        outcome="success",
        user_id=user_id,
        ip="203.0.113.9",
        user_agent="Firefox",
        details={"email": "ada@example.com"},
    )


async def test_restore_only_within_the_grace_period(backend: str) -> None:
    session = await make_session()
    store = AccountDeletion(default_connection())
    now = utcnow()
    assert await store.mark_deleted(session.user_id, now, now + timedelta(days=30))
    assert not await store.mark_deleted(session.user_id, now, now + timedelta(days=30))
    assert await store.restore(session.user_id, utcnow())
    user = await User.get(id=session.user_id)
    assert (user.deleted_at, user.purge_after) == (None, None)
    assert await store.mark_deleted(session.user_id, now, now - timedelta(seconds=1))
    assert not await store.restore(session.user_id, utcnow())


async def test_the_purge_takes_only_what_is_due(backend: str) -> None:
    due, waiting, kept = await make_session(), await make_session(), await make_session()
    store = AccountDeletion(default_connection())
    now = utcnow()
    await store.mark_deleted(due.user_id, now, now - timedelta(seconds=1))
    await store.mark_deleted(waiting.user_id, now, now + timedelta(days=1))
    for session in (due, kept):
        await _audit(session.user_id)
    assert await store.due(utcnow()) == [due.user_id]
    assert await store.purge(due.user_id, utcnow()) is True
    assert await store.purge(due.user_id, utcnow()) is False
    assert await store.purge(waiting.user_id, utcnow()) is False
    assert not await User.exists(id=due.user_id)
    assert not await Session.exists(user_id=due.user_id)
    erased = await AuditEvent.get(user_id=due.user_id)
    assert (erased.ip, erased.user_agent, erased.details) == ("", "", {})
    untouched = await AuditEvent.get(user_id=kept.user_id)
    assert untouched.ip == "203.0.113.9"
    assert await User.exists(id=waiting.user_id)


async def test_the_last_admin_is_counted(backend: str) -> None:
    ada, grace = await make_session(), await make_session()
    store = AccountDeletion(default_connection())
    await User.filter(id=ada.user_id).update(role="admin")
    assert await store.other_active_admins(ada.user_id) == 0
    await User.filter(id=grace.user_id).update(role="admin")
    assert await store.other_active_admins(ada.user_id) == 1
    await store.mark_deleted(grace.user_id, utcnow(), utcnow())
    assert await store.other_active_admins(ada.user_id) == 0
