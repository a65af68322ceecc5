"""Single-use secrets handed out by mail or between login steps, stored as SHA-256 hashes.

Consumption is a conditional update (`used_at IS NULL` → now) whose row count must be 1, so of two
concurrent uses exactly one wins on every database (SELECT … FOR UPDATE is a no-op on SQLite).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from provider.crypto.tokens import new_token, token_hash
from provider.storage.models import OneTimeToken
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
    now = utcnow()
    await OneTimeToken.create(
        id=uuid.uuid4(),
        token_hash=token_hash(token),
        purpose=purpose,
        user_id=user_id,
        data=data or {},
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
        using_db=work.conn,
    )
    return token


async def find_one_time_token(token: str, purpose: str) -> OneTimeToken | None:
    """The unused, unexpired token of this purpose, without consuming it."""
    return await OneTimeToken.get_or_none(
        token_hash=token_hash(token), purpose=purpose, used_at=None, expires_at__gt=utcnow()
    )


async def consume_one_time_token(work: UnitOfWork, token: str, purpose: str) -> OneTimeToken | None:
    """Mark the token used if it is still usable; None when it is unknown, used or expired."""
    digest = token_hash(token)
    now = utcnow()
    claimed = (
        await OneTimeToken.filter(
            token_hash=digest, purpose=purpose, used_at=None, expires_at__gt=now
        )
        .using_db(work.conn)
        .update(used_at=now)
    )
    if claimed != 1:
        return None
    return await OneTimeToken.filter(token_hash=digest).using_db(work.conn).get()


async def retire_one_time_tokens(work: UnitOfWork, user_id: uuid.UUID | str, purpose: str) -> None:
    """Mark every outstanding token of this purpose used (e.g. older links after a reset)."""
    await (
        OneTimeToken.filter(user_id=user_id, purpose=purpose, used_at=None)
        .using_db(work.conn)
        .update(used_at=utcnow())
    )
