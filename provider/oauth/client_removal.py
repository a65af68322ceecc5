"""What removing a client takes with it, whoever removes it (an administrator, or the client
itself through RFC 7592 §2.3): its refresh tokens, consents, codes and row."""

from __future__ import annotations

from provider.storage.clients import Clients
from provider.storage.codes import CodeStore
from provider.storage.consents import Consents
from provider.storage.refresh_families import RefreshFamilies
from provider.storage.unit_of_work import UnitOfWork, utcnow


async def remove_client(work: UnitOfWork, client_id: str) -> int:
    """Inside the caller's unit of work; returns how many refresh tokens were revoked."""
    now = utcnow()
    revoked = await RefreshFamilies(work).revoke_client(client_id, reason="client_deleted", now=now)
    await Consents(work.conn).forget_client(client_id)
    await CodeStore(work.conn).void_client(client_id, now)
    await Clients(work.conn).remove(client_id)
    return revoked
