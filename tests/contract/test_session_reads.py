"""Session reads contract: the session a token or a cookie names (with its user), a user's
unended sessions, the live count of the metrics, the conditional touch; and the refresh-token
lookup and the purge of long-expired rows that sit beside them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from provider.storage import retention
from provider.storage.db import default_connection
from provider.storage.models import OneTimeToken, RefreshToken, Session, User
from provider.storage.refresh_lookup import RefreshLookup
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session


async def test_with_user_loads_the_user(backend: str) -> None:
    session = await make_session(email="ada@example.com")
    reads = SessionReads(default_connection())
    found = await reads.with_user(session.id)
    assert found is not None
    assert (found.id, found.user.email) == (session.id, "ada@example.com")
    assert await reads.with_user(str(session.id)) is not None
    assert await reads.with_user(uuid.uuid4()) is None


async def test_access_facts_only_of_a_session_that_has_not_ended(backend: str) -> None:
    session = await make_session()
    await User.filter(id=session.user_id).update(username="ada")
    reads = SessionReads(default_connection())
    facts = await reads.access_facts(str(session.id))
    assert facts is not None
    assert (facts.user_id, facts.username) == (str(session.user_id), "ada")
    assert facts.expires_at == session.expires_at
    assert facts.last_active_at == session.last_active_at
    assert await reads.access_facts(uuid.uuid4()) is None

    revoked, compromised, of_deleted = [await make_session() for _ in range(3)]
    await Session.filter(id=revoked.id).update(revoked_at=utcnow())
    await Session.filter(id=compromised.id).update(compromised_at=utcnow())
    await User.filter(id=of_deleted.user_id).update(deleted_at=utcnow())
    for ended in (revoked, compromised, of_deleted):
        assert await reads.access_facts(ended.id) is None


async def test_by_cookie_finds_only_the_session_of_that_cookie(backend: str) -> None:
    session = await make_session(email="ada@example.com")
    await Session.filter(id=session.id).update(cookie_hash="c" * 64)
    await make_session()
    reads = SessionReads(default_connection())
    found = await reads.by_cookie("c" * 64)
    assert found is not None
    assert (found.id, found.user.email) == (session.id, "ada@example.com")
    assert await reads.by_cookie("d" * 64) is None


async def test_unended_sessions_of_a_user_most_recently_active_first(backend: str) -> None:
    now = utcnow()
    older = await make_session()
    newer = await make_session()
    await Session.filter(id=newer.id).update(user_id=older.user_id, last_active_at=now)
    await Session.filter(id=older.id).update(last_active_at=now - timedelta(minutes=5))
    for ended in (
        {"revoked_at": now},
        {"compromised_at": now},
        {"expires_at": now - timedelta(seconds=1)},
    ):
        gone = await make_session()
        await Session.filter(id=gone.id).update(user_id=older.user_id, **ended)
    other = await make_session()
    reads = SessionReads(default_connection())
    listed = await reads.unended_of_user(older.user_id, now)
    assert [s.id for s in listed] == [newer.id, older.id]
    assert [s.id for s in await reads.unended_of_user(other.user_id, now)] == [other.id]


async def test_is_unrevoked_is_per_user(backend: str) -> None:
    session = await make_session()
    other = await make_session()
    reads = SessionReads(default_connection())
    assert await reads.is_unrevoked(session.id, session.user_id) is True
    assert await reads.is_unrevoked(session.id, other.user_id) is False
    await Session.filter(id=session.id).update(revoked_at=utcnow())
    assert await reads.is_unrevoked(session.id, session.user_id) is False


async def test_count_live_leaves_out_ended_expired_and_idle_sessions(backend: str) -> None:
    now = utcnow()
    idle_cutoff = now - timedelta(minutes=30)
    await make_session()
    await make_session()
    for ended in (
        {"revoked_at": now},
        {"compromised_at": now},
        {"expires_at": now - timedelta(seconds=1)},
        {"last_active_at": idle_cutoff - timedelta(seconds=1)},
    ):
        gone = await make_session()
        await Session.filter(id=gone.id).update(**ended)
    assert await SessionReads(default_connection()).count_live(now, idle_cutoff) == 2


async def test_touch_writes_only_when_no_one_touched_the_session_since(backend: str) -> None:
    session = await make_session()
    reads = SessionReads(default_connection())
    stale = await reads.with_user(session.id)
    fresh = await reads.with_user(session.id)
    assert stale is not None
    assert fresh is not None
    first = utcnow() + timedelta(seconds=10)
    await reads.touch_if_unchanged(fresh, first)
    assert fresh.last_active_at == first
    await reads.touch_if_unchanged(stale, first + timedelta(seconds=10))
    assert (await Session.get(id=session.id)).last_active_at == first


async def _refresh_token(session: Session, digest: str, *, expires_in: timedelta) -> None:
    now = utcnow()
    await RefreshToken.create(
        id=uuid.uuid4(),
        token_hash=digest,
        family_id=uuid.uuid4(),
        session=session,
        user_id=session.user_id,
        client_id="rp",
        created_at=now,
        expires_at=now + expires_in,
        family_expires_at=now + expires_in,
    )


async def test_refresh_lookup_by_hash_loads_the_session(backend: str) -> None:
    session = await make_session()
    await _refresh_token(session, "h" * 64, expires_in=timedelta(days=1))
    lookup = RefreshLookup(default_connection())
    found = await lookup.by_hash("h" * 64)
    assert found is not None
    assert (found.client_id, found.session.id) == ("rp", session.id)
    assert await lookup.by_hash("i" * 64) is None


async def test_purge_removes_only_rows_expired_before_the_cutoff(backend: str) -> None:
    now = utcnow()
    cutoff = now - timedelta(days=7)
    kept, purged = await make_session(), await make_session()
    await Session.filter(id=purged.id).update(expires_at=cutoff - timedelta(seconds=1))
    await _refresh_token(kept, "k" * 64, expires_in=timedelta(days=1))
    await _refresh_token(kept, "p" * 64, expires_in=-timedelta(days=8))
    for digest, expires_at in (("o" * 64, now), ("q" * 64, cutoff - timedelta(seconds=1))):
        await OneTimeToken.create(
            id=uuid.uuid4(),
            token_hash=digest,
            purpose="verify_email",
            user_id=kept.user_id,
            created_at=now,
            expires_at=expires_at,
        )
    removed = await retention.purge_expired(default_connection(), cutoff)
    assert removed == {"refresh_tokens": 1, "one_time_tokens": 1, "sessions": 1}
    assert await Session.exists(id=kept.id)
    assert not await Session.exists(id=purged.id)
    assert await RefreshToken.filter(token_hash="k" * 64).exists()
    assert await OneTimeToken.filter(token_hash="o" * 64).exists()
    assert await retention.purge_expired(default_connection(), cutoff) == {
        "refresh_tokens": 0,
        "one_time_tokens": 0,
        "sessions": 0,
    }
