"""Ending sessions at the user's request: this one, one device, the others, or all of them.

The JSON API (`/v1/auth/logout`, `/logout-all`) and RP-initiated logout (`/logout`) are two
doors to these use cases; neither opens its own transaction.
"""

from __future__ import annotations

import uuid

from provider.context import Caller, Services
from provider.domain_errors import NotFound
from provider.sessions.service import revoke_session, revoke_user_sessions, session_is_live
from provider.storage.db import default_connection
from provider.storage.models import Session
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import unit_of_work, utcnow


async def sign_out(
    services: Services,
    caller: Caller,
    *,
    user_id: uuid.UUID | str,
    session_id: uuid.UUID | str,
    client_id: str | None = None,
) -> None:
    """End one session and its refresh tokens; `client_id` names the app that asked, if any."""
    async with unit_of_work(caller, services.events) as work:
        await revoke_session(work, session_id, user_id, reason="logout")
        await work.audit("user.logout", user_id=user_id, session_id=session_id, client_id=client_id)


async def sign_out_everywhere(
    services: Services, caller: Caller, *, user_id: uuid.UUID | str, session_id: uuid.UUID | str
) -> int:
    """End every session of the user, the one asking included; returns how many ended."""
    async with unit_of_work(caller, services.events) as work:
        count = await revoke_user_sessions(work, user_id, reason="logout_all")
        await work.audit(
            "user.logout", user_id=user_id, session_id=session_id, details={"all": True}
        )
    return count


async def live_sessions(services: Services, user_id: uuid.UUID | str) -> list[Session]:
    """The user's sessions that still sign them in, newest first ("your devices")."""
    now = utcnow()
    sessions = await SessionReads(default_connection()).unended_of_user(user_id, now)
    return [session for session in sessions if session_is_live(session, services.settings, now)]


async def sign_out_device(
    services: Services, caller: Caller, *, user_id: uuid.UUID | str, session_id: str
) -> uuid.UUID:
    """End one of the user's own sessions; any other id, or one already ended, is not found."""
    try:
        target = uuid.UUID(session_id)
    except ValueError as exc:
        raise NotFound("No such session.") from exc
    if not await SessionReads(default_connection()).is_unrevoked(target, user_id):
        raise NotFound("No such session.")
    async with unit_of_work(caller, services.events) as work:
        await revoke_session(work, target, user_id, reason="user_revoked")
    return target


async def sign_out_other_devices(
    services: Services, caller: Caller, *, user_id: uuid.UUID | str, keep: uuid.UUID | str
) -> int:
    """End every session of the user but `keep` (the one asking); returns how many ended."""
    async with unit_of_work(caller, services.events) as work:
        return await revoke_user_sessions(work, user_id, reason="user_revoked_others", keep=keep)
