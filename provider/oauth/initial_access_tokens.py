"""Initial access tokens (RFC 7591 §3): what lets someone register clients while registration is
not open. An administrator mints one (CLI, admin API, admin console) with an expiry and a number
of uses; the token is shown once and only its hash is kept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from provider.cache.events import EventPublisher
from provider.config import Settings
from provider.context import Caller
from provider.crypto.tokens import new_token, token_hash
from provider.domain_errors import InvalidRequest, NotFound
from provider.storage.db import default_connection
from provider.storage.initial_access_tokens import InitialAccessTokens
from provider.storage.models import InitialAccessToken
from provider.storage.unit_of_work import unit_of_work, utcnow

MAX_USES = 10_000
MAX_NOTE_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Minted:
    row: InitialAccessToken
    token: str
    """In clear, shown once."""


async def mint_initial_access_token(
    settings: Settings,
    events: EventPublisher,
    caller: Caller,
    *,
    uses: int,
    ttl: int | None,
    note: str,
    created_by: str,
) -> Minted:
    """A new token good for `uses` registrations during `ttl` seconds (default: the setting)."""
    ttl = settings.initial_access_token_ttl if ttl is None else ttl
    if not 1 <= uses <= MAX_USES:
        raise InvalidRequest(f"uses must be between 1 and {MAX_USES}.")
    if not 60 <= ttl <= 365 * 86_400:
        raise InvalidRequest("ttl must be between 60 seconds and 365 days.")
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH or not note.isprintable():
        raise InvalidRequest(f"note must be printable and at most {MAX_NOTE_LENGTH} characters.")
    token = new_token()
    async with unit_of_work(caller, events) as work:
        now = utcnow()
        row = await InitialAccessTokens(work.conn).add(
            token_hash(token),
            uses=uses,
            expires_at=now + timedelta(seconds=ttl),
            note=note,
            created_by=created_by,
            now=now,
        )
        await work.audit(
            "registration.token_minted",
            details={"token_id": str(row.id), "uses": uses, "ttl": ttl, "by": created_by},
        )
    return Minted(row, token)


async def initial_access_tokens() -> list[InitialAccessToken]:
    """Every minted token, newest first: note, uses left, expiry (never the token)."""
    return await InitialAccessTokens(default_connection()).listed()


async def revoke_initial_access_token(
    events: EventPublisher, caller: Caller, token_id: str, *, by: str
) -> None:
    try:
        key = uuid.UUID(token_id)
    except ValueError as exc:
        raise NotFound("No such initial access token.") from exc
    async with unit_of_work(caller, events) as work:
        if not await InitialAccessTokens(work.conn).remove(key):
            raise NotFound("No such initial access token.")
        await work.audit("registration.token_revoked", details={"token_id": token_id, "by": by})
