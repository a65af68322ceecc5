"""Expired rows are purged once they are older than the retention, and not before."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from provider.ops.maintenance import RETENTION, purge_expired
from provider.storage.models import OneTimeToken, RefreshToken, Session, User
from provider.storage.unit_of_work import utcnow

pytestmark = pytest.mark.e2e


async def _session(user: User, expires_in: timedelta) -> Session:
    now = utcnow()
    return await Session.create(
        id=uuid.uuid4(),
        user=user,
        created_at=now + expires_in - timedelta(days=30),
        last_active_at=now + expires_in - timedelta(days=1),
        expires_at=now + expires_in,
        auth_time=now + expires_in - timedelta(days=30),
    )


async def _refresh_token(session: Session, expires_in: timedelta) -> RefreshToken:
    now = utcnow()
    return await RefreshToken.create(
        id=uuid.uuid4(),
        token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
        family_id=uuid.uuid4(),
        session_id=session.id,
        user_id=session.user_id,
        client_id="first-party",
        created_at=now + expires_in - timedelta(days=1),
        expires_at=now + expires_in,
        family_expires_at=now + expires_in,
    )


async def _one_time_token(user: User, expires_in: timedelta) -> OneTimeToken:
    now = utcnow()
    return await OneTimeToken.create(
        id=uuid.uuid4(),
        token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
        purpose="email_verification",
        user=user,
        created_at=now + expires_in - timedelta(hours=1),
        expires_at=now + expires_in,
    )


async def test_purge_deletes_only_rows_expired_longer_than_the_retention(clean: None) -> None:
    user = await User.create(id=uuid.uuid4(), email="ada@example.com", password_hash="x")
    long_ago = -(RETENTION + timedelta(hours=1))
    recently = -(RETENTION - timedelta(hours=1))
    live = timedelta(days=5)

    old_session = await _session(user, long_ago)
    recent_session = await _session(user, recently)
    live_session = await _session(user, live)
    old_token = await _refresh_token(live_session, long_ago)
    orphan_candidate = await _refresh_token(old_session, long_ago)
    recent_token = await _refresh_token(recent_session, recently)
    live_token = await _refresh_token(live_session, live)
    old_one_time = await _one_time_token(user, long_ago)
    recent_one_time = await _one_time_token(user, recently)

    removed = await purge_expired()
    assert removed["sessions"] == 1
    assert removed["refresh_tokens"] == 2
    assert removed["one_time_tokens"] == 1

    assert set(await Session.all().values_list("id", flat=True)) == {
        recent_session.id,
        live_session.id,
    }
    remaining_tokens = set(await RefreshToken.all().values_list("id", flat=True))
    assert remaining_tokens == {recent_token.id, live_token.id}
    assert old_token.id not in remaining_tokens
    assert orphan_candidate.id not in remaining_tokens
    assert set(await OneTimeToken.all().values_list("id", flat=True)) == {recent_one_time.id}
    assert old_one_time.id != recent_one_time.id
    assert await User.exists(id=user.id)

    # Nothing more to do the second time.
    again = await purge_expired()
    assert again["sessions"] == again["refresh_tokens"] == again["one_time_tokens"] == 0
