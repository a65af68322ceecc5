"""Ending sessions at the user's request: this one, or all of them, each audited once.

The JSON API (`/v1/auth/logout`, `/logout-all`) and RP-initiated logout (`/logout`) are two
doors to these use cases; neither opens its own transaction.
"""

from __future__ import annotations

import uuid

from provider.context import Caller, Services
from provider.sessions.service import revoke_session, revoke_user_sessions
from provider.storage.unit_of_work import unit_of_work


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
