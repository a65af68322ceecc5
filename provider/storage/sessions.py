"""Login sessions: create, list the live ones, end one or all of a user's, with their tokens.

Ending a session revokes every refresh token hanging off it in the same transaction, so no
family outlives its session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from provider.storage.models import RefreshToken, Session, User
from provider.storage.unit_of_work import UnitOfWork, utcnow


def session_is_live(session: Session, now: datetime, idle: timedelta) -> bool:
    """Not revoked, not compromised, within its absolute lifetime and its idle timeout."""
    return (
        session.revoked_at is None
        and session.compromised_at is None
        and session.expires_at > now
        and session.last_active_at + idle > now
    )


def activity_step(idle: timedelta) -> timedelta:
    """How stale a session's recorded activity may be before a refresh writes it again.

    Every rotation of every family of a session would otherwise update the one session row,
    so concurrent refreshes of a session (a user's apps, or a burst) queue on its row lock, one
    durable commit after another. Writing at most once a step makes the idle timeout fire at
    most one step (a minute, or 5 % of a short timeout) before the last activity's full
    timeout: early, never late.
    """
    return min(timedelta(seconds=60), idle / 20)


class Sessions:
    """The session rows, written in the caller's unit of work (which also takes their audit)."""

    def __init__(self, work: UnitOfWork) -> None:
        self._work = work

    async def create(
        self,
        user: User,
        *,
        amr: list[str],
        acr: str,
        cookie_hash: str | None,
        now: datetime,
        absolute_ttl: int,
    ) -> Session:
        caller = self._work.caller
        return await Session.create(
            id=uuid.uuid4(),
            user=user,
            created_at=now,
            last_active_at=now,
            expires_at=now + timedelta(seconds=absolute_ttl),
            auth_time=now,
            amr=amr,
            acr=acr,
            ip=caller.ip,
            user_agent=caller.user_agent[:512],
            cookie_hash=cookie_hash,
            using_db=self._work.conn,
        )

    async def live_ids(
        self, user_id: uuid.UUID | str, *, now: datetime, idle_ttl: int
    ) -> list[uuid.UUID]:
        """The user's live sessions (not ended, within both limits), newest first."""
        return cast(
            "list[uuid.UUID]",
            await Session.filter(
                user_id=user_id,
                revoked_at=None,
                compromised_at=None,
                expires_at__gt=now,
                last_active_at__gt=now - timedelta(seconds=idle_ttl),
            )
            .using_db(self._work.conn)
            .order_by("-created_at")
            .values_list("id", flat=True),
        )

    async def end(
        self, session_id: uuid.UUID | str, user_id: uuid.UUID | str, *, reason: str
    ) -> bool:
        """End a session and every refresh family hanging off it. False if it had already ended;
        `session.revoked` is written only when this call ended it."""
        now = utcnow()
        ended = (
            await Session.filter(id=session_id, revoked_at=None)
            .using_db(self._work.conn)
            .update(revoked_at=now, revoked_reason=reason)
        )
        self._work.sessions_changed(user_id)
        await _revoke_tokens_of(self._work, [session_id], reason, now)
        if ended:
            await self._work.audit(
                "session.revoked",
                user_id=user_id,
                session_id=session_id,
                details={"reason": reason},
            )
        return bool(ended)

    async def end_all_of_user(
        self,
        user_id: uuid.UUID | str,
        *,
        reason: str,
        keep: uuid.UUID | str | None = None,
    ) -> int:
        """End every unrevoked session of a user (but `keep`); one `sessions.bulk_revoked`."""
        query = Session.filter(user_id=user_id, revoked_at=None).using_db(self._work.conn)
        if keep is not None:
            query = query.exclude(id=keep)
        session_ids = list(await query.values_list("id", flat=True))
        now = utcnow()
        await (
            Session.filter(id__in=session_ids, revoked_at=None)
            .using_db(self._work.conn)
            .update(revoked_at=now, revoked_reason=reason)
        )
        self._work.sessions_changed(user_id)
        await _revoke_tokens_of(self._work, session_ids, reason, now)
        await self._work.audit(
            "sessions.bulk_revoked",
            user_id=user_id,
            session_id=keep,
            details={"count": len(session_ids), "reason": reason},
        )
        return len(session_ids)

    async def mark_compromised(self, session_id: uuid.UUID | str, now: datetime) -> None:
        await (
            Session.filter(id=session_id, compromised_at=None)
            .using_db(self._work.conn)
            .update(compromised_at=now)
        )

    async def authenticated_again(
        self,
        session_id: uuid.UUID | str,
        *,
        now: datetime,
        amr: list[str],
        acr: str,
        cookie_hash: str | None,
    ) -> None:
        """The session's user proved who they are again `now`; the new cookie, when given,
        replaces the old one."""
        changes: dict[str, Any] = {"auth_time": now, "last_active_at": now, "amr": amr, "acr": acr}
        if cookie_hash is not None:
            changes["cookie_hash"] = cookie_hash
        await Session.filter(id=session_id).using_db(self._work.conn).update(**changes)

    async def is_new_device(self, user_id: uuid.UUID | str) -> bool:
        """No earlier session of the user from the caller's User-Agent and address; never for
        the very first session."""
        caller = self._work.caller
        earlier = Session.filter(user_id=user_id).using_db(self._work.conn)
        if not await earlier.exists():
            return False
        seen = await earlier.filter(ip=caller.ip, user_agent=caller.user_agent[:512]).exists()
        return not seen

    async def touch(self, session: Session, now: datetime, step: timedelta = timedelta(0)) -> None:
        """Record activity: the idle timeout counts from here. Activity recorded less than `step`
        before `now` is left as it is (`activity_step`)."""
        if session.last_active_at > now - step:
            return
        await (
            Session.filter(id=session.id, last_active_at__lte=now - step)
            .using_db(self._work.conn)
            .update(last_active_at=now)
        )
        session.last_active_at = now


async def _revoke_tokens_of(
    work: UnitOfWork, session_ids: Sequence[object], reason: str, now: datetime
) -> None:
    await (
        RefreshToken.filter(session_id__in=session_ids, revoked_at=None)
        .using_db(work.conn)
        .update(revoked_at=now, revoked_reason=reason)
    )
