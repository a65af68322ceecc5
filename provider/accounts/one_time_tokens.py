"""Single-use secrets handed out by mail or between login steps: only their hash is stored, and
each is used once (`provider.storage.one_time_tokens` holds the single-use rule)."""

from __future__ import annotations

import uuid
from typing import Any

from provider.crypto.tokens import new_token, token_hash
from provider.storage.db import default_connection
from provider.storage.models import OneTimeToken
from provider.storage.one_time_tokens import OneTimeTokens
from provider.storage.unit_of_work import UnitOfWork, utcnow

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
MFA_LOGIN = "mfa_login"


async def issue_one_time_token(
    work: UnitOfWork,
    user_id: uuid.UUID | str,
    purpose: str,
    ttl: int,
    data: dict[str, Any] | None = None,
) -> str:
    """A new 256-bit token; only its hash is written."""
    token = new_token()
    await OneTimeTokens(work.conn).save(
        token_hash(token), user_id, purpose, data=data or {}, now=utcnow(), ttl=ttl
    )
    return token


async def find_one_time_token(token: str, purpose: str) -> OneTimeToken | None:
    """The unused, unexpired token of this purpose, without consuming it."""
    return await OneTimeTokens(default_connection()).find_usable(
        token_hash(token), purpose, utcnow()
    )


async def consume_one_time_token(work: UnitOfWork, token: str, purpose: str) -> OneTimeToken | None:
    """Mark the token used if it is still usable; None when it is unknown, used or expired."""
    return await OneTimeTokens(work.conn).consume(token_hash(token), purpose, utcnow())


async def retire_one_time_tokens(work: UnitOfWork, user_id: uuid.UUID | str, purpose: str) -> None:
    """Mark every outstanding token of this purpose used (e.g. older links after a reset)."""
    await OneTimeTokens(work.conn).retire(user_id, purpose, utcnow())
