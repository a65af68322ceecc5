"""Login sessions and refresh-token families: create, rotate, detect reuse, revoke.

A family is one grant of one session to one client. Every refresh marks the presented token
used (a conditional update, so exactly one of two concurrent uses wins on any database) and issues
its child. A used token presented again means it was copied: the family is revoked, the session is
marked compromised, and `token.reuse_detected` is written and published.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from tortoise import connections

from provider.config import Settings
from provider.context import Caller, Services
from provider.crypto.tokens import new_token, token_hash
from provider.sessions.rotation_sql import rotate_in_one_statement
from provider.storage.models import RefreshToken, Session, User
from provider.storage.unit_of_work import (
    UnitOfWork,
    announce,
    event_payload,
    unit_of_work,
    utcnow,
)


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


def session_is_live(session: Session, settings: Settings, now: datetime) -> bool:
    """Not revoked, not compromised, within its absolute lifetime and its idle timeout."""
    return (
        session.revoked_at is None
        and session.compromised_at is None
        and session.expires_at > now
        and session.last_active_at + timedelta(seconds=settings.session_idle_ttl) > now
    )


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
    now = utcnow()
    session = await Session.create(
        id=uuid.uuid4(),
        user=user,
        created_at=now,
        last_active_at=now,
        expires_at=now + timedelta(seconds=settings.session_absolute_ttl),
        auth_time=now,
        amr=amr,
        acr=acr,
        ip=work.caller.ip,
        user_agent=work.caller.user_agent[:512],
        cookie_hash=cookie_hash,
        using_db=work.conn,
    )
    await work.audit("session.created", user_id=user.id, session_id=session.id, client_id=client_id)
    await _enforce_session_limit(work, settings, user)
    return session


async def _enforce_session_limit(work: UnitOfWork, settings: Settings, user: User) -> None:
    """Revoke the oldest live sessions beyond `max_sessions_per_user`.

    Live as `session_is_live` sees it: a session already ended by its idle timeout does not take
    a place, or a new login would sign out a device in use while keeping an abandoned one.
    """
    now = utcnow()
    live = cast(
        "list[uuid.UUID]",
        await Session.filter(
            user_id=user.id,
            revoked_at=None,
            compromised_at=None,
            expires_at__gt=now,
            last_active_at__gt=now - timedelta(seconds=settings.session_idle_ttl),
        )
        .using_db(work.conn)
        .order_by("-created_at")
        .values_list("id", flat=True),
    )
    for session_id in live[settings.max_sessions_per_user :]:
        await revoke_session(work, session_id, user.id, reason="session_limit")


async def issue_refresh_token(
    work: UnitOfWork,
    settings: Settings,
    session: Session,
    *,
    client_id: str,
    scope: str,
    parent: RefreshToken | None = None,
) -> IssuedRefresh:
    """A new token: the head of a new family, or the child of `parent` in its family."""
    now = utcnow()
    family_expires_at = (
        parent.family_expires_at
        if parent
        else min(now + timedelta(seconds=settings.refresh_token_ttl), session.expires_at)
    )
    idle_expiry = now + timedelta(seconds=settings.session_idle_ttl)
    token = new_token()
    family_id = parent.family_id if parent else uuid.uuid4()
    await RefreshToken.create(
        id=uuid.uuid4(),
        token_hash=token_hash(token),
        family_id=family_id,
        parent_id=parent.id if parent else None,
        session_id=session.id,
        user_id=session.user_id,
        client_id=client_id,
        scope=scope,
        created_at=now,
        expires_at=min(idle_expiry, family_expires_at),
        family_expires_at=family_expires_at,
        using_db=work.conn,
    )
    return IssuedRefresh(token, family_id)


async def rotate_refresh_token(
    services: Services, caller: Caller, presented: str, client_id: str
) -> Rotation:
    """Exchange a refresh token for its successor, or detect its reuse (DESIGN: Tokens)."""
    digest = token_hash(presented)
    settings = services.settings
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        child = new_token()
        now = utcnow()
        rotated = await rotate_in_one_statement(
            conn,
            settings,
            caller,
            digest=digest,
            child_hash=token_hash(child),
            client_id=client_id,
            now=now,
        )
        if rotated is not None:
            details = {"family_id": str(rotated.family_id)}
            announce(
                services.events,
                "token.refreshed",
                event_payload(
                    caller,
                    audit_id=rotated.audit_id,
                    outcome="success",
                    user_id=rotated.user.id,
                    session_id=rotated.session.id,
                    client_id=client_id,
                    time=now,
                    details=details,
                ),
            )
            return Rotation(child, rotated.session, rotated.user, client_id, rotated.scope)
        raise RefreshRejected(await _explain_rejection(services, caller, digest, client_id))
    async with unit_of_work(caller, services.events) as work:
        now = utcnow()
        claimed = (
            await RefreshToken.filter(
                token_hash=digest, used_at=None, revoked_at=None, expires_at__gt=now
            )
            .using_db(work.conn)
            .update(used_at=now)
        )
        if claimed == 1:
            return await _issue_successor(work, settings, digest, client_id, now)
    reason = await _explain_rejection(services, caller, digest, client_id)
    raise RefreshRejected(reason)


async def _issue_successor(
    work: UnitOfWork, settings: Settings, digest: str, client_id: str, now: datetime
) -> Rotation:
    token = (
        await RefreshToken.filter(token_hash=digest)
        .using_db(work.conn)
        .select_related("session__user")
        .get()
    )
    session, user = token.session, token.session.user
    if token.client_id != client_id:
        # RFC 6749 §6: the token is bound to the client it was issued to.
        raise RefreshRejected("client_mismatch")
    if not session_is_live(session, settings, now) or user.deleted_at is not None:
        raise RefreshRejected("session_ended")
    child = await issue_refresh_token(
        work, settings, session, client_id=client_id, scope=token.scope, parent=token
    )
    await Session.filter(id=session.id).using_db(work.conn).update(last_active_at=now)
    session.last_active_at = now
    await work.audit(
        "token.refreshed",
        user_id=user.id,
        session_id=session.id,
        client_id=client_id,
        details={"family_id": str(token.family_id)},
    )
    return Rotation(child.token, session, user, client_id, token.scope)


async def _explain_rejection(
    services: Services, caller: Caller, digest: str, client_id: str
) -> str:
    """Why the token was not claimable; a used one revokes its family and session (reuse)."""
    token = await RefreshToken.get_or_none(token_hash=digest)
    if token is None:
        return "unknown"
    if token.used_at is None:
        if token.revoked_at is not None:
            return "revoked"
        if token.expires_at <= utcnow():
            return "expired"
        if token.client_id != client_id:
            return "client_mismatch"
        return "session_ended"
    async with unit_of_work(caller, services.events) as work:
        now = utcnow()
        await (
            RefreshToken.filter(family_id=token.family_id, revoked_at=None)
            .using_db(work.conn)
            .update(revoked_at=now, revoked_reason="reuse_detected")
        )
        await (
            Session.filter(id=token.session_id, compromised_at=None)
            .using_db(work.conn)
            .update(compromised_at=now)
        )
        await revoke_session(work, token.session_id, token.user_id, reason="reuse_detected")
        await work.audit(
            "token.reuse_detected",
            outcome="failure",
            user_id=token.user_id,
            session_id=token.session_id,
            client_id=token.client_id,
            details={"family_id": str(token.family_id), "presented_by": client_id},
        )
    return "reuse_detected"


async def revoke_session(
    work: UnitOfWork,
    session_id: uuid.UUID | str,
    user_id: uuid.UUID | str,
    *,
    reason: str,
) -> bool:
    """End a session and every refresh family hanging off it. False if it had already ended."""
    now = utcnow()
    ended = (
        await Session.filter(id=session_id, revoked_at=None)
        .using_db(work.conn)
        .update(revoked_at=now, revoked_reason=reason)
    )
    await (
        RefreshToken.filter(session_id=session_id, revoked_at=None)
        .using_db(work.conn)
        .update(revoked_at=now, revoked_reason=reason)
    )
    if ended:
        await work.audit(
            "session.revoked", user_id=user_id, session_id=session_id, details={"reason": reason}
        )
    return bool(ended)


async def revoke_user_sessions(
    work: UnitOfWork,
    user_id: uuid.UUID | str,
    *,
    reason: str,
    keep: uuid.UUID | str | None = None,
) -> int:
    """End every live session of a user (but `keep`); one `sessions.bulk_revoked` event."""
    query = Session.filter(user_id=user_id, revoked_at=None).using_db(work.conn)
    if keep is not None:
        query = query.exclude(id=keep)
    session_ids = await query.values_list("id", flat=True)
    now = utcnow()
    await (
        Session.filter(id__in=session_ids, revoked_at=None)
        .using_db(work.conn)
        .update(revoked_at=now, revoked_reason=reason)
    )
    await (
        RefreshToken.filter(session_id__in=session_ids, revoked_at=None)
        .using_db(work.conn)
        .update(revoked_at=now, revoked_reason=reason)
    )
    await work.audit(
        "sessions.bulk_revoked",
        user_id=user_id,
        session_id=keep,
        details={"count": len(session_ids), "reason": reason},
    )
    return len(session_ids)
