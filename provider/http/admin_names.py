"""Names instead of ids on the admin pages: who (email) and which client (name) a row is about."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from provider.storage.audit_names import AuditNames
from provider.storage.db import default_connection


@dataclass(frozen=True, slots=True)
class Names:
    users: dict[str, str] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)


async def names_in(rows: Iterable[dict[str, Any]]) -> Names:
    """The emails and client names of the `user_id` and `client_id` fields of `rows`."""
    listed = list(rows)
    user_ids = {row["user_id"] for row in listed if row.get("user_id")}
    client_ids = {row["client_id"] for row in listed if row.get("client_id")}
    reads = AuditNames(default_connection())
    return Names(await reads.user_emails(user_ids), await reads.client_names(client_ids))
