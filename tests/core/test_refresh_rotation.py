"""Refresh rotation and reuse detection of the core (sessions.service.rotate_refresh_token), on
the portable store path that SQLite takes (RFC 9700 §4.14.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from provider.context import Services
from provider.crypto.tokens import token_hash
from provider.sessions.service import RefreshRejected, revoke_session, rotate_refresh_token
from provider.storage.models import AuditEvent, RefreshToken, Session
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher, make_session
from tests.core.rows import OFFLINE, issue_refresh, make_client


async def _rotate(services: Services, token: str, client_id: str = "rp") -> str:
    return (await rotate_refresh_token(services, CALLER, token, client_id)).refresh_token


async def _rejection(services: Services, token: str, client_id: str = "rp") -> str:
    """Why presenting `token` is refused."""
    with pytest.raises(RefreshRejected) as rejected:
        await rotate_refresh_token(services, CALLER, token, client_id)
    return rejected.value.reason


async def _row(token: str) -> RefreshToken:
    return await RefreshToken.get(token_hash=token_hash(token))


async def test_a_rotation_returns_a_new_token_and_the_old_one_then_fails(
    services: Services, publisher: RecordingPublisher
) -> None:
    client = await make_client()
    session = await make_session()
    issued = await issue_refresh(services, session, client)

    rotation = await rotate_refresh_token(services, CALLER, issued.token, client.id)

    assert rotation.refresh_token != issued.token
    assert (rotation.client_id, rotation.scope) == (client.id, OFFLINE)
    assert rotation.session.id == session.id
    assert rotation.user.id == session.user_id
    parent, child = await _row(issued.token), await _row(rotation.refresh_token)
    assert parent.used_at is not None
    assert (child.family_id, child.parent_id) == (issued.family_id, parent.id)
    assert child.used_at is None
    refreshed = await AuditEvent.get(event="token.refreshed")
    assert refreshed.details == {"family_id": str(issued.family_id)}
    assert "token.refreshed" in publisher.names()

    assert await _rejection(services, issued.token) == "reuse_detected"


async def test_a_rotated_token_presented_again_revokes_the_whole_family(
    services: Services, publisher: RecordingPublisher
) -> None:
    client = await make_client()
    session = await make_session()
    issued = await issue_refresh(services, session, client)
    newest = await _rotate(services, await _rotate(services, issued.token))

    assert await _rejection(services, issued.token) == "reuse_detected"

    family = await RefreshToken.filter(family_id=issued.family_id)
    assert len(family) == 3
    assert {row.revoked_reason for row in family} == {"reuse_detected"}
    assert await _rejection(services, newest) == "revoked"
    alarm = await AuditEvent.get(event="token.reuse_detected")
    assert alarm.outcome == "failure"
    assert (str(alarm.user_id), str(alarm.session_id)) == (
        str(session.user_id),
        str(session.id),
    )
    assert alarm.details == {"family_id": str(issued.family_id), "presented_by": client.id}
    ended = await Session.get(id=session.id)
    assert ended.compromised_at is not None
    assert ended.revoked_reason == "reuse_detected"
    assert "token.reuse_detected" in publisher.names()


async def test_reuse_ends_only_the_family_of_its_session(services: Services) -> None:
    client = await make_client()
    stolen = await issue_refresh(services, await make_session(), client)
    bystander = await issue_refresh(services, await make_session(), client)
    await _rotate(services, stolen.token)

    assert await _rejection(services, stolen.token) == "reuse_detected"

    assert await _rotate(services, bystander.token)


async def test_an_expired_family_fails_without_a_reuse_alarm(services: Services) -> None:
    client = await make_client()
    session = await make_session()
    issued = await issue_refresh(services, session, client)
    past = utcnow() - timedelta(seconds=1)
    await RefreshToken.filter(family_id=issued.family_id).update(
        expires_at=past, family_expires_at=past
    )

    assert await _rejection(services, issued.token) == "expired"

    assert (await _row(issued.token)).used_at is None
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0
    assert (await Session.get(id=session.id)).revoked_at is None


async def test_a_child_never_outlives_its_family(services: Services) -> None:
    client = await make_client()
    issued = await issue_refresh(services, await make_session(), client)
    end = utcnow() + timedelta(minutes=5)
    await RefreshToken.filter(family_id=issued.family_id).update(family_expires_at=end)

    child = await _row(await _rotate(services, issued.token))

    assert child.expires_at == end
    assert child.family_expires_at == end


async def test_a_token_of_a_revoked_session_fails(services: Services) -> None:
    client = await make_client()
    session = await make_session()
    issued = await issue_refresh(services, session, client)
    async with unit_of_work(CALLER, services.events) as work:
        assert await revoke_session(work, session.id, session.user_id, reason="logout")

    assert await _rejection(services, issued.token) == "revoked"

    assert (await _row(issued.token)).revoked_reason == "logout"
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0


@pytest.mark.parametrize("how", ["revoked", "compromised", "idle", "expired"])
async def test_a_session_that_ended_by_itself_fails_its_live_tokens(
    services: Services, how: str
) -> None:
    client = await make_client()
    session = await make_session()
    issued = await issue_refresh(services, session, client)
    now = utcnow()
    ended = {
        "revoked": {"revoked_at": now},
        "compromised": {"compromised_at": now},
        "idle": {"last_active_at": now - timedelta(seconds=services.settings.session_idle_ttl + 1)},
        "expired": {"expires_at": now - timedelta(seconds=1)},
    }[how]
    await Session.filter(id=session.id).update(**ended)

    assert await _rejection(services, issued.token) == "session_ended"

    assert (await _row(issued.token)).used_at is None


async def test_a_token_presented_by_another_client_fails_and_stays_usable(
    services: Services,
) -> None:
    client = await make_client()
    await make_client("other")
    issued = await issue_refresh(services, await make_session(), client)

    assert await _rejection(services, issued.token, "other") == "client_mismatch"

    assert (await _row(issued.token)).used_at is None
    assert await _rotate(services, issued.token)


async def test_an_unknown_token_fails(services: Services) -> None:
    assert await _rejection(services, "never-issued") == "unknown"
    assert await AuditEvent.all().count() == 0
