"""Authorization codes: saved when a flow ends, claimed once at /token.

Single use is a conditional update (`used_at IS NULL` in the WHERE clause, one row changed or
none), which holds on SQLite, where `select_for_update` is silently dropped, as on PostgreSQL,
where a second claimant re-checks the condition once the first has committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import AuthorizationCode


@dataclass(frozen=True, slots=True)
class NewCode:
    """What a code is bound to (RFC 6749 §4.1.3, RFC 7636) and the authentication it carries."""

    client_id: str
    user_id: uuid.UUID | str
    session_id: uuid.UUID | str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    auth_time: datetime
    amr: list[str]
    acr: str
    # The resource servers the request named (RFC 8707 §2.1); none for a token for the client.
    resources: tuple[str, ...] = ()


class CodeStore:
    """The authorization codes, read and written on the caller's connection or transaction."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def save(self, code_hash: str, code: NewCode, *, now: datetime, ttl: int) -> None:
        await AuthorizationCode.create(
            id=uuid.uuid4(),
            code_hash=code_hash,
            client_id=code.client_id,
            user_id=code.user_id,
            session_id=code.session_id,
            redirect_uri=code.redirect_uri,
            scope=code.scope,
            nonce=code.nonce,
            code_challenge=code.code_challenge,
            auth_time=code.auth_time,
            amr=list(code.amr),
            acr=code.acr,
            resources=list(code.resources) or None,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            using_db=self._conn,
        )

    async def claim(self, code_hash: str, now: datetime) -> AuthorizationCode | None:
        """Mark an unused, unexpired code used and return it with its session and user; None
        when it is unknown, expired or already used (then nothing was changed)."""
        claimed = (
            await AuthorizationCode.filter(code_hash=code_hash, used_at=None, expires_at__gt=now)
            .using_db(self._conn)
            .update(used_at=now)
        )
        if claimed != 1:
            return None
        return (
            await AuthorizationCode.filter(code_hash=code_hash)
            .using_db(self._conn)
            .select_related("session", "user")
            .get()
        )

    async def find_redeemed(self, code_hash: str) -> AuthorizationCode | None:
        """The code if it exists and was already redeemed: a second redemption is a replay."""
        code = await AuthorizationCode.get_or_none(code_hash=code_hash, using_db=self._conn)
        if code is None or code.used_at is None:
            return None
        return code

    async def record_issued(
        self, code: AuthorizationCode, *, family_id: uuid.UUID | None, access_jti: str
    ) -> None:
        """Remember what the redemption issued, so a replay can revoke it (RFC 6749 §4.1.2)."""
        code.issued_family_id = family_id
        code.issued_access_jti = access_jti
        fields = ["issued_family_id", "issued_access_jti"]
        await code.save(using_db=self._conn, update_fields=fields)

    async def void_client(self, client_id: str, now: datetime) -> None:
        """Use up every unredeemed code of a client (it is being deleted)."""
        await (
            AuthorizationCode.filter(client_id=client_id, used_at=None)
            .using_db(self._conn)
            .update(used_at=now)
        )
