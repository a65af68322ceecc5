"""Refresh-token families: issue, rotate with reuse detection, revoke.

A family is one grant of one session to one client. Rotation marks the presented token used and
inserts its child; a used token presented again means it was copied, so the whole family is
revoked, the session is marked compromised and ended, and `token.reuse_detected` is written.

Rotation has two paths behind one interface, chosen by the connection: on PostgreSQL one
statement of data-modifying CTEs (rotation_sql.py), elsewhere a conditional update and its
follow-up writes. Both run in the caller's unit of work, and the contract suite
(tests/contract/test_refresh_families.py) holds both to the same assertions.

On PostgreSQL a rotation that succeeds needs no unit of work at all: `rotate_alone` runs the one
statement in autocommit, which PostgreSQL makes atomic by itself, and so saves the BEGIN and the
COMMIT, two of the three round trips of a rotation in a transaction. Only when it cannot claim
the token does the caller open a unit of work, whose `rotate` explains the refusal (and revokes
the family on reuse).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from provider.cache.events import EventPublisher
from provider.context import Caller
from provider.storage.db import default_connection
from provider.storage.models import RefreshToken, Session, User
from provider.storage.rotation_sql import Rotated, rotate_in_one_statement
from provider.storage.sessions import Sessions, activity_step, session_is_live
from provider.storage.unit_of_work import UnitOfWork, announce, event_payload


@dataclass(frozen=True, slots=True)
class Successor:
    """A rotation that succeeded: the session (touched), its user and what the family grants."""

    session: Session
    user: User
    family_id: uuid.UUID
    scope: str
    resources: list[str]


@dataclass(frozen=True, slots=True)
class Rejected:
    """Nothing was rotated; `reason` is for logs and audit (unknown, revoked, expired,
    client_mismatch, session_ended, reuse_detected), never for the caller's client."""

    reason: str


class RefreshFamilies:
    """The refresh tokens, written in the caller's unit of work.

    `one_statement=False` forces the portable rotation on PostgreSQL too (the contract suite runs
    both paths there).
    """

    def __init__(self, work: UnitOfWork, *, one_statement: bool = True) -> None:
        self._work = work
        self._one_statement = one_statement and work.conn.capabilities.dialect == "postgres"

    async def issue(
        self,
        token_hash: str,
        session: Session,
        *,
        client_id: str,
        scope: str,
        now: datetime,
        family_ttl: timedelta,
        idle: timedelta,
        resources: list[str] | None = None,
    ) -> uuid.UUID:
        """The head of a new family; returns the family id. The family ends with its session
        or after `family_ttl`; each token of it after `idle` unused."""
        family_expires_at = min(now + family_ttl, session.expires_at)
        family_id = uuid.uuid4()
        await RefreshToken.create(
            id=uuid.uuid4(),
            token_hash=token_hash,
            family_id=family_id,
            parent_id=None,
            session_id=session.id,
            user_id=session.user_id,
            client_id=client_id,
            scope=scope,
            resources=resources or None,
            created_at=now,
            expires_at=min(now + idle, family_expires_at),
            family_expires_at=family_expires_at,
            using_db=self._work.conn,
        )
        return family_id

    async def rotate(
        self, digest: str, child_hash: str, *, client_id: str, now: datetime, idle: timedelta
    ) -> Successor | Rejected:
        """Exchange the token hashed `digest` for a child hashed `child_hash`, or say why not.

        RFC 6749 §6: the token is bound to the client it was issued to; RFC 9700 §4.14.2: a
        refresh token used twice revokes its family.
        """
        if self._one_statement:
            rotated = await rotate_in_one_statement(
                self._work.conn,
                self._work.caller,
                digest=digest,
                child_hash=child_hash,
                client_id=client_id,
                now=now,
                idle=idle,
            )
            if rotated is None:
                return await self._explain(digest, client_id, now, idle)
            # The statement wrote the audit row; its event goes out once the caller commits.
            self._work.publish_after_commit(
                "token.refreshed", _refreshed_event(self._work.caller, rotated, client_id, now)
            )
            return _successor(rotated)
        return await self._rotate_portably(digest, child_hash, client_id, now, idle)

    async def _rotate_portably(
        self, digest: str, child_hash: str, client_id: str, now: datetime, idle: timedelta
    ) -> Successor | Rejected:
        conn = self._work.conn
        token = await self._find(digest)
        if (
            token is None
            or token.used_at is not None
            or _unusable(token, client_id, now, idle) is not None
        ):
            return await self._explain(digest, client_id, now, idle)
        # Single use: only an update that still finds the token unused wins. On PostgreSQL a
        # concurrent claimant waits for the winner's commit, then finds no row.
        claimed = (
            await RefreshToken.filter(id=token.id, used_at=None, revoked_at=None)
            .using_db(conn)
            .update(used_at=now)
        )
        if claimed != 1:
            return await self._explain(digest, client_id, now, idle)
        session, user = token.session, token.session.user
        await RefreshToken.create(
            id=uuid.uuid4(),
            token_hash=child_hash,
            family_id=token.family_id,
            parent_id=token.id,
            session_id=session.id,
            user_id=session.user_id,
            client_id=client_id,
            scope=token.scope,
            resources=token.resources,
            created_at=now,
            expires_at=min(now + idle, token.family_expires_at),
            family_expires_at=token.family_expires_at,
            using_db=conn,
        )
        await Sessions(self._work).touch(session, now, activity_step(idle))
        await self._work.audit(
            "token.refreshed",
            user_id=user.id,
            session_id=session.id,
            client_id=client_id,
            details={"family_id": str(token.family_id)},
        )
        return Successor(session, user, token.family_id, token.scope, token.resources or [])

    async def _find(self, digest: str) -> RefreshToken | None:
        return (
            await RefreshToken.filter(token_hash=digest)
            .using_db(self._work.conn)
            .select_related("session__user")
            .first()
        )

    async def _explain(
        self, digest: str, client_id: str, now: datetime, idle: timedelta
    ) -> Rejected:
        """Why the token was not rotated; a used one is a reuse and revokes its family."""
        token = await self._find(digest)
        if token is None:
            return Rejected("unknown")
        if token.used_at is None:
            return Rejected(_unusable(token, client_id, now, idle) or "session_ended")
        await self.revoke_family(token.family_id, reason="reuse_detected", now=now)
        await Sessions(self._work).mark_compromised(token.session_id, now)
        await Sessions(self._work).end(token.session_id, token.user_id, reason="reuse_detected")
        await self._work.audit(
            "token.reuse_detected",
            outcome="failure",
            user_id=token.user_id,
            session_id=token.session_id,
            client_id=token.client_id,
            details={"family_id": str(token.family_id), "presented_by": client_id},
        )
        return Rejected("reuse_detected")

    async def revoke_family(self, family_id: uuid.UUID, *, reason: str, now: datetime) -> int:
        """Revoke every live token of a family; how many there were."""
        return await (
            RefreshToken.filter(family_id=family_id, revoked_at=None)
            .using_db(self._work.conn)
            .update(revoked_at=now, revoked_reason=reason)
        )

    async def revoke_client(self, client_id: str, *, reason: str, now: datetime) -> int:
        """Revoke every live token of a client; how many there were."""
        return (
            await RefreshToken.filter(client_id=client_id, revoked_at=None)
            .using_db(self._work.conn)
            .update(revoked_at=now, revoked_reason=reason)
        )

    async def revoke_user_client(
        self, user_id: uuid.UUID | str, client_id: str, *, reason: str, now: datetime
    ) -> int:
        """Revoke every live token the client holds for the user; how many there were."""
        return (
            await RefreshToken.filter(user_id=user_id, client_id=client_id, revoked_at=None)
            .using_db(self._work.conn)
            .update(revoked_at=now, revoked_reason=reason)
        )


def _unusable(token: RefreshToken, client_id: str, now: datetime, idle: timedelta) -> str | None:
    """Why an unused token cannot be rotated, in the order the reasons are reported."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    if token.client_id != client_id:
        return "client_mismatch"
    session = token.session
    if not session_is_live(session, now, idle) or session.user.deleted_at is not None:
        return "session_ended"
    return None


async def rotate_alone(
    caller: Caller,
    publisher: EventPublisher,
    digest: str,
    child_hash: str,
    *,
    client_id: str,
    now: datetime,
    idle: timedelta,
) -> Successor | None:
    """The rotation as one autocommitted statement on PostgreSQL, its event published at once.

    None, with nothing changed, on another database or when the token could not be claimed:
    the caller then rotates in a unit of work (`RefreshFamilies.rotate`), which says why.
    """
    conn = default_connection()
    if conn.capabilities.dialect != "postgres":
        return None
    rotated = await rotate_in_one_statement(
        conn, caller, digest=digest, child_hash=child_hash, client_id=client_id, now=now, idle=idle
    )
    if rotated is None:
        return None
    announce(publisher, "token.refreshed", _refreshed_event(caller, rotated, client_id, now))
    return _successor(rotated)


def _successor(rotated: Rotated) -> Successor:
    return Successor(
        rotated.session, rotated.user, rotated.family_id, rotated.scope, rotated.resources
    )


def _refreshed_event(
    caller: Caller, rotated: Rotated, client_id: str, now: datetime
) -> dict[str, Any]:
    return event_payload(
        caller,
        audit_id=rotated.audit_id,
        outcome="success",
        user_id=rotated.user.id,
        session_id=rotated.session.id,
        client_id=client_id,
        time=now,
        details={"family_id": str(rotated.family_id)},
    )
