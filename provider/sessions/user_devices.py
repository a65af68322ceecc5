"""A user's own devices: the live sessions they can see and sign out, one or all but this one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from provider.context import Caller, Services
from provider.domain_errors import NotFound
from provider.net.ip_locations import FALLBACK_LANGUAGE
from provider.sessions.devices import describe_device
from provider.sessions.service import revoke_session, revoke_user_sessions, session_is_live
from provider.storage.db import default_connection
from provider.storage.models import Session, User
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import unit_of_work, utcnow


@dataclass(frozen=True, slots=True)
class Device:
    session_id: uuid.UUID
    device: str
    ip: str
    # "City, Region, Country" from the configured IP database, in the reader's language where
    # it has one; None without a database.
    location: str | None
    created_at: datetime
    last_active_at: datetime
    current: bool


@dataclass(frozen=True, slots=True)
class LiveSession:
    session: Session
    location: str | None


async def devices_of(
    services: Services, user: User, current: Session, language: str = FALLBACK_LANGUAGE
) -> list[Device]:
    """The user's live sessions, most recently active first, the one in use flagged; places
    named in `language` where the IP database can."""
    return [
        Device(
            session_id=live.session.id,
            device=describe_device(live.session.user_agent),
            ip=live.session.ip,
            location=live.location,
            created_at=live.session.created_at,
            last_active_at=live.session.last_active_at,
            current=live.session.id == current.id,
        )
        for live in await live_sessions(services, user.id, language)
    ]


async def live_sessions(
    services: Services, user_id: uuid.UUID | str, language: str = FALLBACK_LANGUAGE
) -> list[LiveSession]:
    """The user's sessions that still sign them in, newest first, as rows with where their
    address is (the JSON API)."""
    now = utcnow()
    sessions = await SessionReads(default_connection()).unended_of_user(user_id, now)
    return [
        LiveSession(session, services.ip_locations.describe(session.ip, language))
        for session in sessions
        if session_is_live(session, services.settings, now)
    ]


async def sign_out_device(
    services: Services, caller: Caller, user: User, session_id: str
) -> uuid.UUID:
    """End one of the user's sessions and return its id; NotFound unless it is theirs and
    still running."""
    try:
        target = uuid.UUID(session_id)
    except ValueError as exc:
        raise NotFound("No such session.") from exc
    if not await SessionReads(default_connection()).is_unrevoked(target, user.id):
        raise NotFound("No such session.")
    async with unit_of_work(caller, services.events) as work:
        await revoke_session(work, target, user.id, reason="user_revoked")
    return target


async def sign_out_other_devices(
    services: Services, caller: Caller, user: User, current: Session
) -> int:
    """End every session of the user but `current`; how many there were."""
    async with unit_of_work(caller, services.events) as work:
        return await revoke_user_sessions(
            work, user.id, reason="user_revoked_others", keep=current.id
        )
