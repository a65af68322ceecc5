"""Sessions contract: creation, the live list, ending one or all of a user's sessions together
with their refresh tokens, and the audit rows each of those writes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from provider.cache.local_copies import version_key
from provider.context import SESSION_COPIES, Caller
from provider.crypto.tokens import new_token, token_hash
from provider.storage.models import AuditEvent, RefreshToken, Session, User
from provider.storage.refresh_families import RefreshFamilies
from provider.storage.sessions import Sessions, session_is_live
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher, make_session

IDLE = timedelta(hours=1)


async def _token_of(session: Session, publisher: RecordingPublisher) -> str:
    token = new_token()
    async with unit_of_work(CALLER, publisher) as work:
        await RefreshFamilies(work).issue(
            token_hash(token),
            session,
            client_id="rp",
            scope="openid",
            now=utcnow(),
            family_ttl=timedelta(days=1),
            idle=IDLE,
        )
    return token


async def test_create_records_the_caller_and_the_limits(
    backend: str, publisher: RecordingPublisher
) -> None:
    user = await User.create(email="ada@example.com", password_hash="x")
    now = utcnow()
    async with unit_of_work(CALLER, publisher) as work:
        session = await Sessions(work).create(
            user, amr=["pwd"], acr="1", cookie_hash="c" * 64, now=now, absolute_ttl=600
        )
    row = await Session.get(id=session.id)
    assert (row.ip, row.user_agent) == (CALLER.ip, CALLER.user_agent)
    assert (row.amr, row.acr, row.cookie_hash) == (["pwd"], "1", "c" * 64)
    assert row.expires_at - row.created_at == timedelta(seconds=600)
    assert row.auth_time == row.last_active_at == row.created_at
    assert session_is_live(row, utcnow(), IDLE)


async def test_live_ids_lists_only_live_sessions_newest_first(
    backend: str, publisher: RecordingPublisher
) -> None:
    first = await make_session()
    user = await User.get(id=first.user_id)
    now = utcnow()
    later = await Session.create(
        id=uuid.uuid4(),
        user=user,
        created_at=now + timedelta(seconds=1),
        last_active_at=now,
        expires_at=now + timedelta(hours=2),
        auth_time=now,
    )
    idle = await Session.create(
        id=uuid.uuid4(),
        user=user,
        created_at=now + timedelta(seconds=2),
        last_active_at=now - IDLE - timedelta(seconds=1),
        expires_at=now + timedelta(hours=2),
        auth_time=now,
    )
    async with unit_of_work(CALLER, publisher) as work:
        live = await Sessions(work).live_ids(user.id, now=utcnow(), idle_ttl=3600)
    assert live == [later.id, first.id]
    assert not session_is_live(idle, utcnow(), IDLE)


async def test_end_revokes_the_session_and_its_tokens_once(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    token = await _token_of(session, publisher)
    async with unit_of_work(CALLER, publisher) as work:
        assert await Sessions(work).end(session.id, session.user_id, reason="logout")
    async with unit_of_work(CALLER, publisher) as work:
        assert not await Sessions(work).end(session.id, session.user_id, reason="logout")
    row = await Session.get(id=session.id)
    assert (row.revoked_reason, row.compromised_at) == ("logout", None)
    refresh = await RefreshToken.get(token_hash=token_hash(token))
    assert refresh.revoked_reason == "logout"
    audit = await AuditEvent.filter(event="session.revoked").get()
    assert audit.details == {"reason": "logout"}
    assert publisher.names() == ["session.revoked"]


async def test_end_all_of_user_keeps_one_and_writes_one_event(
    backend: str, publisher: RecordingPublisher
) -> None:
    kept = await make_session()
    user = await User.get(id=kept.user_id)
    now = utcnow()
    others = [
        await Session.create(
            id=uuid.uuid4(),
            user=user,
            created_at=now,
            last_active_at=now,
            expires_at=now + timedelta(hours=1),
            auth_time=now,
        )
        for _ in range(2)
    ]
    stranger = await make_session(email="stranger@example.com")
    tokens = [await _token_of(session, publisher) for session in (kept, *others, stranger)]
    async with unit_of_work(CALLER, publisher) as work:
        count = await Sessions(work).end_all_of_user(user.id, reason="logout_all", keep=kept.id)
    assert count == 2
    states = {s.id: s.revoked_reason for s in await Session.all()}
    assert states == {
        kept.id: None,
        others[0].id: "logout_all",
        others[1].id: "logout_all",
        stranger.id: None,
    }
    reasons = [
        (await RefreshToken.get(token_hash=token_hash(token))).revoked_reason for token in tokens
    ]
    assert reasons == [None, "logout_all", "logout_all", None]
    bulk = await AuditEvent.filter(event="sessions.bulk_revoked").get()
    assert bulk.details == {"count": 2, "reason": "logout_all"}
    assert str(bulk.session_id) == str(kept.id)
    assert publisher.names() == ["sessions.bulk_revoked"]


async def test_mark_compromised_and_touch(backend: str, publisher: RecordingPublisher) -> None:
    session = await make_session()
    later = utcnow() + timedelta(seconds=5)
    async with unit_of_work(CALLER, publisher) as work:
        await Sessions(work).touch(session, later)
        await Sessions(work).mark_compromised(session.id, later)
    row = await Session.get(id=session.id)
    assert row.last_active_at == later == session.last_active_at
    assert row.compromised_at == later
    assert not session_is_live(row, utcnow(), IDLE)


async def test_authenticated_again_renews_the_proof_and_maybe_the_cookie(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    later = utcnow() + timedelta(seconds=30)
    async with unit_of_work(CALLER, publisher) as work:
        await Sessions(work).authenticated_again(
            session.id, now=later, amr=["pwd", "otp", "mfa"], acr="mfa", cookie_hash="d" * 64
        )
    row = await Session.get(id=session.id)
    assert row.auth_time == row.last_active_at == later
    assert (row.amr, row.acr, row.cookie_hash) == (["pwd", "otp", "mfa"], "mfa", "d" * 64)
    # Without a new cookie the old one stays.
    async with unit_of_work(CALLER, publisher) as work:
        await Sessions(work).authenticated_again(
            session.id, now=later, amr=["pwd"], acr="1", cookie_hash=None
        )
    row = await Session.get(id=session.id)
    assert (row.amr, row.acr, row.cookie_hash) == (["pwd"], "1", "d" * 64)
    assert publisher.names() == []


async def test_a_new_device_is_an_unseen_address_and_agent_after_a_first_session(
    backend: str, publisher: RecordingPublisher
) -> None:
    user = await User.create(email="ada@example.com", password_hash="x")
    elsewhere = Caller(ip="198.51.100.9", user_agent="other", request_id="r2")
    async with unit_of_work(CALLER, publisher) as work:
        assert not await Sessions(work).is_new_device(user.id)  # the very first session
        await Sessions(work).create(
            user, amr=["pwd"], acr="1", cookie_hash=None, now=utcnow(), absolute_ttl=600
        )
        assert not await Sessions(work).is_new_device(user.id)
    async with unit_of_work(elsewhere, publisher) as work:
        assert await Sessions(work).is_new_device(user.id)


async def test_ending_sessions_moves_the_version_of_the_users_sessions_on(
    backend: str, publisher: RecordingPublisher
) -> None:
    """After the commit, before the caller answers: every worker's copy of the session facts of
    the user is stale (provider.oauth.access_check)."""
    session = await make_session()
    key = version_key(SESSION_COPIES, str(session.user_id))
    assert await publisher.cache.get(key) is None
    async with unit_of_work(CALLER, publisher) as work:
        await Sessions(work).end(session.id, session.user_id, reason="logout")
        assert await publisher.cache.get(key) is None  # not before the commit
    first = await publisher.cache.get(key)
    assert first is not None
    async with unit_of_work(CALLER, publisher) as work:
        await Sessions(work).end_all_of_user(session.user_id, reason="password_changed")
    assert await publisher.cache.get(key) not in (None, first)
