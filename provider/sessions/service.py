"""Login sessions and refresh-token families: create, rotate, detect reuse, revoke.

The rules of lifetimes and limits live here; the rows are written by the stores
(`provider.storage.sessions`, `provider.storage.refresh_families`) in the caller's unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from provider.config import Settings
from provider.context import Caller, Services
from provider.crypto.tokens import new_token, token_hash
from provider.storage import sessions as session_rows
from provider.storage.models import Session, User
from provider.storage.refresh_families import (
    RefreshFamilies,
    Rejected,
    Successor,
    rotate_alone,
)
from provider.storage.sessions import Sessions
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow


class RefreshRejected(Exception):
    """The refresh token cannot be used; `reason` is for logs and audit, not for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IssuedRefresh:
    token: str
    family_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Rotation:
    refresh_token: str
    session: Session
    user: User
    client_id: str
    scope: str
    resources: list[str]


def session_is_live(session: Session, settings: Settings, now: datetime) -> bool:
    """Not revoked, not compromised, within its absolute lifetime and its idle timeout."""
    return session_rows.session_is_live(session, now, timedelta(seconds=settings.session_idle_ttl))


async def start_session(
    work: UnitOfWork,
    settings: Settings,
    user: User,
    *,
    amr: list[str],
    acr: str = "",
    client_id: str | None = None,
    cookie_hash: str | None = None,
) -> Session:
    """Create a session, write `session.created`, and keep the user within the session limit."""
    sessions = Sessions(work)
    session = await sessions.create(
        user,
        amr=amr,
        acr=acr,
        cookie_hash=cookie_hash,
        now=utcnow(),
        absolute_ttl=settings.session_absolute_ttl,
    )
    await work.audit("session.created", user_id=user.id, session_id=session.id, client_id=client_id)
    await _enforce_session_limit(work, settings, user)
    return session


async def _enforce_session_limit(work: UnitOfWork, settings: Settings, user: User) -> None:
    """Revoke the oldest live sessions beyond `max_sessions_per_user`.

    Live as `session_is_live` sees it: a session already ended by its idle timeout does not take
    a place, or a new login would sign out a device in use while keeping an abandoned one.
    """
    sessions = Sessions(work)
    live = await sessions.live_ids(user.id, now=utcnow(), idle_ttl=settings.session_idle_ttl)
    for session_id in live[settings.max_sessions_per_user :]:
        await sessions.end(session_id, user.id, reason="session_limit")


async def issue_refresh_token(
    work: UnitOfWork,
    settings: Settings,
    session: Session,
    *,
    client_id: str,
    scope: str,
    resources: list[str] | None = None,
) -> IssuedRefresh:
    """A new token at the head of a new family."""
    token = new_token()
    family_id = await RefreshFamilies(work).issue(
        token_hash(token),
        session,
        client_id=client_id,
        scope=scope,
        now=utcnow(),
        family_ttl=timedelta(seconds=settings.refresh_token_ttl),
        idle=timedelta(seconds=settings.session_idle_ttl),
        resources=resources,
    )
    return IssuedRefresh(token, family_id)


async def rotate_refresh_token(
    services: Services, caller: Caller, presented: str, client_id: str
) -> Rotation:
    """Exchange a refresh token for its successor, or detect its reuse.

    A rotation that succeeds on PostgreSQL is one autocommitted statement (`rotate_alone`); a
    unit of work is opened only to rotate elsewhere, or to explain a refusal. The reuse
    revocation is committed before the rejection is raised.
    """
    child = new_token()
    digest, child_hash = token_hash(presented), token_hash(child)
    now, idle = utcnow(), timedelta(seconds=services.settings.session_idle_ttl)
    outcome: Successor | Rejected | None = await rotate_alone(
        caller, services.events, digest, child_hash, client_id=client_id, now=now, idle=idle
    )
    if outcome is None:
        async with unit_of_work(caller, services.events) as work:
            outcome = await RefreshFamilies(work).rotate(
                digest, child_hash, client_id=client_id, now=now, idle=idle
            )
    if isinstance(outcome, Rejected):
        raise RefreshRejected(outcome.reason)
    return Rotation(
        child, outcome.session, outcome.user, client_id, outcome.scope, outcome.resources
    )


async def revoke_session(
    work: UnitOfWork,
    session_id: uuid.UUID | str,
    user_id: uuid.UUID | str,
    *,
    reason: str,
) -> bool:
    """End a session and every refresh family hanging off it. False if it had already ended."""
    return await Sessions(work).end(session_id, user_id, reason=reason)


async def revoke_user_sessions(
    work: UnitOfWork,
    user_id: uuid.UUID | str,
    *,
    reason: str,
    keep: uuid.UUID | str | None = None,
) -> int:
    """End every live session of a user (but `keep`); one `sessions.bulk_revoked` event."""
    return await Sessions(work).end_all_of_user(user_id, reason=reason, keep=keep)
