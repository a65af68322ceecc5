"""Reads of sessions outside a unit of work: the session a token or a cookie names, a user's
devices, the live count for the metrics; and the throttled record of activity.

Whether a session is live is decided by the caller (`provider.sessions.service.session_is_live`,
the idle timeout comes from the settings); these queries only narrow the rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import Session


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """A session that has not ended, and its user's name (see `SessionReads.access_facts`)."""

    user_id: str
    expires_at: datetime
    last_active_at: datetime
    username: str | None


class SessionReads:
    """The session rows, read on the caller's connection."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def with_user(self, session_id: uuid.UUID | str) -> Session | None:
        """The session with this id, its user loaded; None if there is none."""
        return await Session.get_or_none(id=session_id, using_db=self._conn).select_related("user")

    async def access_facts(self, session_id: uuid.UUID | str) -> SessionFacts | None:
        """What a check of an access token needs of its session: None if there is none, or if
        it was revoked or compromised, or its user deleted."""
        rows = await (
            Session.filter(
                id=session_id, revoked_at=None, compromised_at=None, user__deleted_at=None
            )
            .using_db(self._conn)
            .values("user_id", "expires_at", "last_active_at", "user__username")
        )
        if not rows:
            return None
        row = rows[0]
        return SessionFacts(
            user_id=str(row["user_id"]),
            expires_at=row["expires_at"],
            last_active_at=row["last_active_at"],
            username=row["user__username"],
        )

    async def by_cookie(self, cookie_hash: str) -> Session | None:
        """The session whose browser cookie hashes to `cookie_hash`, its user loaded."""
        return await Session.get_or_none(
            cookie_hash=cookie_hash, using_db=self._conn
        ).select_related("user")

    async def unended_of_user(self, user_id: uuid.UUID | str, now: datetime) -> list[Session]:
        """The user's sessions neither revoked, compromised nor past their absolute lifetime,
        most recently active first (the idle timeout is the caller's to apply)."""
        return (
            await Session.filter(
                user_id=user_id, revoked_at=None, compromised_at=None, expires_at__gt=now
            )
            .using_db(self._conn)
            .order_by("-last_active_at")
        )

    async def is_unrevoked(self, session_id: uuid.UUID, user_id: uuid.UUID | str) -> bool:
        """Whether the user has this session and it has not been revoked."""
        return (
            await Session.filter(id=session_id, user_id=user_id, revoked_at=None)
            .using_db(self._conn)
            .exists()
        )

    async def count_live(self, now: datetime, idle_cutoff: datetime) -> int:
        """Sessions neither ended nor expired, active since `idle_cutoff`."""
        return (
            await Session.filter(
                revoked_at=None,
                compromised_at=None,
                expires_at__gt=now,
                last_active_at__gt=idle_cutoff,
            )
            .using_db(self._conn)
            .count()
        )

    async def touch_if_unchanged(self, session: Session, now: datetime) -> None:
        """Record activity at `now`, unless another request recorded some since `session` was
        read (the conditional update keeps concurrent requests from writing twice)."""
        await (
            Session.filter(id=session.id, last_active_at=session.last_active_at)
            .using_db(self._conn)
            .update(last_active_at=now)
        )
        session.last_active_at = now
