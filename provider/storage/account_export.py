"""What the provider holds about one user, read for "export my data"."""

from __future__ import annotations

import uuid

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import AuditEvent, Consent, Session

# A person's own trail is small; the cap keeps one export from reading without end.
MAX_AUDIT_ROWS = 10_000


class AccountExport:
    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def sessions(self, user_id: uuid.UUID) -> list[Session]:
        return await Session.filter(user_id=user_id).using_db(self._conn).order_by("-created_at")

    async def consents(self, user_id: uuid.UUID) -> list[Consent]:
        return await Consent.filter(user_id=user_id).using_db(self._conn).order_by("client_id")

    async def audit(self, user_id: uuid.UUID) -> list[AuditEvent]:
        return (
            await AuditEvent.filter(user_id=user_id)
            .using_db(self._conn)
            .order_by("-id")
            .limit(MAX_AUDIT_ROWS)
        )
