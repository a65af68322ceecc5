"""The apps a user has connected: their consents, with the client's name and the last time the
client got or refreshed a token for the user (from the audit trail)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Max

from provider.storage.models import AuditEvent, Client, Consent

# The audit events that mean "the client used its access to this user".
USE_EVENTS = ("token.issued", "token.refreshed")


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime
    last_used_at: datetime | None


class ConnectedApps:
    """Read on the caller's connection."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self._conn = conn

    async def of_user(self, user_id: uuid.UUID | str) -> list[ConnectedApp]:
        """Every consent of the user, most recently granted first."""
        consents = (
            await Consent.filter(user_id=user_id).using_db(self._conn).order_by("-updated_at")
        )
        if not consents:
            return []
        client_ids = [consent.client_id for consent in consents]
        names = dict(
            await Client.filter(id__in=client_ids).using_db(self._conn).values_list("id", "name")
        )
        last_uses = dict(
            await AuditEvent.filter(user_id=user_id, client_id__in=client_ids, event__in=USE_EVENTS)
            .using_db(self._conn)
            .group_by("client_id")
            .annotate(last=Max("created_at"))
            .values_list("client_id", "last")
        )
        return [
            ConnectedApp(
                client_id=consent.client_id,
                client_name=str(names.get(consent.client_id, consent.client_id)),
                scopes=list(consent.scopes),
                granted_at=consent.created_at,
                last_used_at=last_uses.get(consent.client_id),
            )
            for consent in consents
        ]
