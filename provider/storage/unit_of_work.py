"""A transaction that also writes audit rows and publishes their events once it has committed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from provider.cache.events import EventPublisher
from provider.cache.local_copies import announce_change, version_key
from provider.context import CLIENT_COPIES, SESSION_COPIES, Caller
from provider.ops.metrics import AUDIT_EVENTS
from provider.storage.models import AuditEvent


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class UnitOfWork:
    conn: BaseDBAsyncClient
    caller: Caller
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    callbacks: list[Callable[[], None]] = field(default_factory=list)
    changed_users: set[str] = field(default_factory=set)
    changed_clients: set[str] = field(default_factory=set)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` after the commit (e.g. queue a mail); never after a rollback."""
        self.callbacks.append(callback)

    def sessions_changed(self, user_id: UUID | str) -> None:
        """A session of the user ended, or what a token check shows of the user changed: once
        committed, every worker's copies of the user's session facts are stale."""
        self.changed_users.add(str(user_id))

    def client_changed(self, client_id: str) -> None:
        """The client's row changed or went: once committed, every worker's copy of it is stale,
        so a disabled client, a retired secret or a new claim filter holds at the next request."""
        self.changed_clients.add(client_id)

    def publish_after_commit(self, event: str, payload: dict[str, Any]) -> None:
        """Publish the event of an audit row written by other means (one SQL statement) once
        the transaction has committed, as `audit` does for its own rows."""
        self.events.append((event, payload))

    async def audit(
        self,
        event: str,
        *,
        outcome: str = "success",
        user_id: UUID | str | None = None,
        session_id: UUID | str | None = None,
        client_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        now = utcnow()
        row = await AuditEvent.create(
            created_at=now,
            event=event,
            outcome=outcome,
            user_id=user_id,
            session_id=session_id,
            client_id=client_id,
            ip=self.caller.ip,
            user_agent=self.caller.user_agent[:512],
            request_id=self.caller.request_id,
            details=details or {},
            using_db=self.conn,
        )
        payload = event_payload(
            self.caller,
            audit_id=row.id,
            outcome=outcome,
            user_id=user_id,
            session_id=session_id,
            client_id=client_id,
            time=now,
            details=details,
        )
        self.events.append((event, payload))


def event_payload(
    caller: Caller,
    *,
    audit_id: int,
    outcome: str,
    user_id: UUID | str | None,
    session_id: UUID | str | None,
    client_id: str | None,
    time: datetime,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    """The pub/sub message of an audit row."""
    # The fixed keys come first and win: a detail can never pass for the user or session.
    payload: dict[str, Any] = {
        "audit_id": audit_id,
        "outcome": outcome,
        "user_id": str(user_id) if user_id else None,
        "session_id": str(session_id) if session_id else None,
        "client_id": client_id,
        "ip": caller.ip,
        "request_id": caller.request_id,
        "time": time.isoformat(),
    }
    payload.update({k: v for k, v in (details or {}).items() if k not in payload and k != "event"})
    return payload


def announce(publisher: EventPublisher, event: str, payload: dict[str, Any]) -> None:
    """Count and publish an event whose audit row has been committed."""
    AUDIT_EVENTS.labels(event=event, outcome=str(payload["outcome"])).inc()
    publisher.publish(event, payload)


@asynccontextmanager
async def unit_of_work(caller: Caller, publisher: EventPublisher) -> AsyncIterator[UnitOfWork]:
    async with in_transaction() as conn:
        work = UnitOfWork(conn=conn, caller=caller)
        yield work
    # Before the response: a session ended or a client changed here holds at every worker's
    # next check.
    for user_id in work.changed_users:
        await announce_change(publisher.cache, version_key(SESSION_COPIES, user_id))
    for client_id in work.changed_clients:
        await announce_change(publisher.cache, version_key(CLIENT_COPIES, client_id))
    for event, payload in work.events:
        announce(publisher, event, payload)
    for callback in work.callbacks:
        callback()
