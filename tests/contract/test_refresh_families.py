"""RefreshFamilies contract: issue, rotation, reuse detection and refusals.

On PostgreSQL the contract runs twice, on the one-statement rotation and on the portable one,
so the fast path is held to exactly the assertions of the path SQLite takes. The one-statement
backend rotates as the refresh use case does: autocommitted first (`rotate_alone`), then in a
unit of work only when that could not claim the token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from provider.crypto.tokens import new_token, token_hash
from provider.storage.models import AuditEvent, RefreshToken, Session, User
from provider.storage.refresh_families import RefreshFamilies, Rejected, Successor, rotate_alone
from provider.storage.sessions import activity_step
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher, make_session, open_backend

IDLE = timedelta(hours=1)
FAMILY_TTL = timedelta(days=14)
CLIENT = "rp"


@pytest.fixture(params=["sqlite", "postgres", "postgres-portable"])
async def backend(request: pytest.FixtureRequest, clean: None, database: str) -> AsyncIterator[str]:
    async for _ in open_backend(request.param.removesuffix("-portable"), database):
        yield request.param


def _families(work: Any, backend: str) -> RefreshFamilies:
    return RefreshFamilies(work, one_statement=not backend.endswith("-portable"))


async def _issue(
    backend: str, publisher: RecordingPublisher, session: Session, client_id: str = CLIENT
) -> str:
    token = new_token()
    async with unit_of_work(CALLER, publisher) as work:
        await _families(work, backend).issue(
            token_hash(token),
            session,
            client_id=client_id,
            scope="openid offline_access",
            now=utcnow(),
            family_ttl=FAMILY_TTL,
            idle=IDLE,
        )
    return token


async def _rotate(
    backend: str,
    publisher: RecordingPublisher,
    token: str,
    client_id: str = CLIENT,
    now: datetime | None = None,
) -> tuple[Successor | Rejected, str]:
    child = new_token()
    now = now or utcnow()
    if backend == "postgres":
        alone = await rotate_alone(
            CALLER,
            publisher,
            token_hash(token),
            token_hash(child),
            client_id=client_id,
            now=now,
            idle=IDLE,
        )
        if alone is not None:
            return alone, child
    async with unit_of_work(CALLER, publisher) as work:
        outcome = await _families(work, backend).rotate(
            token_hash(token), token_hash(child), client_id=client_id, now=now, idle=IDLE
        )
    return outcome, child


async def _row(token: str) -> RefreshToken:
    return await RefreshToken.get(token_hash=token_hash(token))


async def _snapshot() -> list[tuple[object, ...]]:
    tokens = (
        await RefreshToken.all()
        .order_by("created_at")
        .values_list("id", "used_at", "revoked_at", "expires_at")
    )
    sessions = await Session.all().values_list(
        "id", "revoked_at", "compromised_at", "last_active_at"
    )
    return [*tokens, *sessions, ("audit", await AuditEvent.all().count())]


async def test_issue_starts_a_family_bounded_by_its_session(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session(ttl=3 * 24 * 3600)
    token = await _issue(backend, publisher, session)
    row = await _row(token)
    assert row.parent_id is None
    assert row.used_at is None
    assert row.revoked_at is None
    assert (row.client_id, row.scope) == (CLIENT, "openid offline_access")
    assert str(row.session_id) == str(session.id)
    assert str(row.user_id) == str(session.user_id)
    # The family cannot outlive its session; each token lives `IDLE` unused.
    assert row.family_expires_at == session.expires_at
    assert row.expires_at - row.created_at == IDLE


async def test_rotation_uses_the_token_and_issues_its_child(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    # Activity recorded longer ago than the step is written again.
    session.last_active_at = utcnow() - activity_step(IDLE) - timedelta(seconds=1)
    await Session.filter(id=session.id).update(last_active_at=session.last_active_at)
    token = await _issue(backend, publisher, session)
    parent = await _row(token)
    outcome, child = await _rotate(backend, publisher, token)

    assert isinstance(outcome, Successor)
    assert outcome.session.id == session.id
    assert outcome.user.id == session.user_id
    assert outcome.family_id == parent.family_id
    assert outcome.scope == "openid offline_access"
    assert (await _row(token)).used_at is not None
    successor = await _row(child)
    assert successor.parent_id == parent.id
    assert successor.family_id == parent.family_id
    assert successor.family_expires_at == parent.family_expires_at
    assert successor.used_at is None
    touched = await Session.get(id=session.id)
    assert touched.last_active_at > session.last_active_at
    assert touched.last_active_at == outcome.session.last_active_at

    audit = await AuditEvent.filter(event="token.refreshed").get()
    assert (audit.outcome, audit.client_id) == ("success", CLIENT)
    assert str(audit.user_id) == str(session.user_id)
    assert str(audit.session_id) == str(session.id)
    assert audit.details == {"family_id": str(parent.family_id)}
    assert (audit.ip, audit.request_id) == (CALLER.ip, CALLER.request_id)
    assert publisher.names() == ["token.refreshed"]
    payload = publisher.published[0][1]
    assert payload["audit_id"] == audit.id
    assert payload["family_id"] == str(parent.family_id)
    assert payload["client_id"] == CLIENT

    # The child rotates in turn.
    again, _ = await _rotate(backend, publisher, child)
    assert isinstance(again, Successor)


async def test_rotations_within_the_activity_step_leave_the_session_row_alone(
    backend: str, publisher: RecordingPublisher
) -> None:
    """Concurrent refreshes of one session must not queue on its row: activity recorded less
    than a step ago is not written again, and the successor reports what is recorded."""
    session = await make_session()
    recorded = (await Session.get(id=session.id)).last_active_at
    token = await _issue(backend, publisher, session)
    for _ in range(3):
        outcome, token = await _rotate(backend, publisher, token)
        assert isinstance(outcome, Successor)
        assert outcome.session.last_active_at == recorded
    assert (await Session.get(id=session.id)).last_active_at == recorded
    assert await AuditEvent.filter(event="token.refreshed").count() == 3


async def test_a_used_token_presented_again_revokes_the_family_and_the_session(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    other = await make_session(email="other-device@example.com")
    token = await _issue(backend, publisher, session)
    untouched = await _issue(backend, publisher, other)
    first, child = await _rotate(backend, publisher, token)
    assert isinstance(first, Successor)
    publisher.published.clear()

    replay, _ = await _rotate(backend, publisher, token, client_id="someone-else")
    assert replay == Rejected("reuse_detected")
    family = await RefreshToken.filter(family_id=first.family_id)
    assert len(family) == 2
    assert {row.revoked_reason for row in family} == {"reuse_detected"}
    ended = await Session.get(id=session.id)
    assert ended.compromised_at is not None
    assert ended.revoked_reason == "reuse_detected"
    reuse = await AuditEvent.filter(event="token.reuse_detected").get()
    assert reuse.outcome == "failure"
    assert reuse.client_id == CLIENT
    assert reuse.details == {"family_id": str(first.family_id), "presented_by": "someone-else"}
    assert await AuditEvent.filter(event="session.revoked").count() == 1
    assert publisher.names() == ["session.revoked", "token.reuse_detected"]

    # Every token of the family is dead now, the newest included; other sessions are not.
    dead, _ = await _rotate(backend, publisher, child)
    assert dead == Rejected("revoked")
    assert (await _row(untouched)).revoked_at is None
    assert (await Session.get(id=other.id)).revoked_at is None


@pytest.mark.parametrize(
    "case",
    ["unknown", "expired", "revoked", "client_mismatch", "session_revoked", "idle", "user_deleted"],
)
async def test_a_refused_rotation_changes_nothing(
    backend: str, publisher: RecordingPublisher, case: str
) -> None:
    session = await make_session()
    token = await _issue(backend, publisher, session)
    now = utcnow()
    client_id = CLIENT
    expected = case
    if case == "unknown":
        token = new_token()
    elif case == "expired":
        await RefreshToken.filter(token_hash=token_hash(token)).update(
            expires_at=now - timedelta(seconds=1)
        )
    elif case == "revoked":
        await RefreshToken.filter(token_hash=token_hash(token)).update(revoked_at=now)
    elif case == "client_mismatch":
        client_id = "another-client"
    elif case == "session_revoked":
        await Session.filter(id=session.id).update(revoked_at=now)
        expected = "session_ended"
    elif case == "idle":
        await Session.filter(id=session.id).update(last_active_at=now - IDLE - timedelta(seconds=1))
        expected = "session_ended"
    else:
        await User.filter(id=session.user_id).update(deleted_at=now)
        expected = "session_ended"
    before = await _snapshot()
    outcome, _ = await _rotate(backend, publisher, token, client_id=client_id)
    assert outcome == Rejected(expected)
    assert await _snapshot() == before
    assert publisher.published == []


async def test_twenty_concurrent_rotations_of_one_token_have_one_successor(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    token = await _issue(backend, publisher, session)
    family_id = (await _row(token)).family_id

    outcomes = await asyncio.gather(*(_rotate(backend, publisher, token) for _ in range(20)))
    successors = [outcome for outcome, _ in outcomes if isinstance(outcome, Successor)]
    assert len(successors) == 1
    assert [o for o, _ in outcomes if isinstance(o, Rejected)] == [Rejected("reuse_detected")] * 19

    family = await RefreshToken.filter(family_id=family_id)
    assert len(family) == 2
    assert all(row.revoked_at is not None for row in family)
    assert (await Session.get(id=session.id)).compromised_at is not None
    assert await AuditEvent.filter(event="token.refreshed").count() == 1
    assert await AuditEvent.filter(event="session.revoked").count() == 1
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 19
    assert publisher.names().count("token.refreshed") == 1
    assert publisher.names().count("session.revoked") == 1
    assert publisher.names().count("token.reuse_detected") == 19


async def test_revoking_a_users_client_spares_other_users_and_clients(
    backend: str, publisher: RecordingPublisher
) -> None:
    ada, grace = await make_session(), await make_session()
    removed = [await _issue(backend, publisher, ada), await _issue(backend, publisher, ada)]
    kept = [
        await _issue(backend, publisher, ada, client_id="other-rp"),
        await _issue(backend, publisher, grace),
    ]
    now = utcnow()
    async with unit_of_work(CALLER, publisher) as work:
        revoked = await _families(work, backend).revoke_user_client(
            ada.user_id, CLIENT, reason="access_removed", now=now
        )
    assert revoked == 2
    for token in removed:
        row = await _row(token)
        assert (row.revoked_at, row.revoked_reason) == (now, "access_removed")
    for token in kept:
        assert (await _row(token)).revoked_at is None
    async with unit_of_work(CALLER, publisher) as work:
        again = await _families(work, backend).revoke_user_client(
            ada.user_id, CLIENT, reason="access_removed", now=utcnow()
        )
    assert again == 0


async def test_the_resources_of_a_grant_pass_to_every_successor(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    token = new_token()
    resources = ["https://orders.example.com", "urn:example:billing"]
    async with unit_of_work(CALLER, publisher) as work:
        await _families(work, backend).issue(
            token_hash(token),
            session,
            client_id=CLIENT,
            scope="openid offline_access orders.read",
            now=utcnow(),
            family_ttl=FAMILY_TTL,
            idle=IDLE,
            resources=resources,
        )
    first, child = await _rotate(backend, publisher, token)
    assert isinstance(first, Successor)
    assert first.resources == resources
    second, grandchild = await _rotate(backend, publisher, child)
    assert isinstance(second, Successor)
    assert second.resources == resources
    assert (await _row(grandchild)).resources == resources
    # A family issued without resources has none.
    plain, _ = await _rotate(backend, publisher, await _issue(backend, publisher, session))
    assert isinstance(plain, Successor)
    assert plain.resources == []
