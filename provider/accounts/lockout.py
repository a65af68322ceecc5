"""Account lockout: N failed logins within a window lock the account for a while.

Failures are counted per account, and per typed identifier when no account matches, so an attacker
sees the same lock for an address that exists and one that does not (no enumeration by lockout).

`claim_attempt` counts an attempt before it is evaluated (increment-then-check, one atomic step in
the cache): with check-evaluate-record, concurrent attempts all pass the check before any failure
is counted, and thirty wrong codes sent at once were all evaluated against a threshold of five.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from provider.cache.base import CacheUnavailable
from provider.cache.fallback import RETRY_AFTER
from provider.context import Caller, Services
from provider.domain_errors import AccountLocked, TemporarilyUnavailable
from provider.storage.accounts import UserRecords
from provider.storage.models import User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow


class Lockout:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._settings = services.settings

    async def ensure_not_locked(self, subject: str, user: User | None) -> None:
        now = utcnow()
        if user is not None:
            if user.locked_until is not None and user.locked_until > now:
                raise AccountLocked(int((user.locked_until - now).total_seconds()) + 1)
            return
        try:
            # A lock decides security: never read from one worker's memory during an outage.
            until = await self._services.cache.strict().get(f"lock:until:{subject}")
        except CacheUnavailable as exc:
            # The lock of an unknown identifier cannot be read: fail closed, the caller retries.
            raise TemporarilyUnavailable(
                "The account lock cannot be checked right now; try again shortly.",
                int(RETRY_AFTER),
            ) from exc
        if until is not None and float(until) > time.time():
            raise AccountLocked(int(float(until) - time.time()) + 1)

    async def record_failure(self, work: UnitOfWork, subject: str, user: User | None) -> bool:
        """Count one failure; lock when it reaches the threshold. True if this locked it."""
        settings = self._settings
        result = await self._services.cache.hit_window(
            f"lock:fail:{subject}", settings.lockout_threshold, settings.lockout_window
        )
        if result.allowed and result.count < settings.lockout_threshold:
            return False
        await self._services.cache.delete(f"lock:fail:{subject}")
        return await self._lock(work, subject, user, result.count)

    async def claim_attempt(self, subject: str) -> int:
        """Count an attempt before evaluating it; AccountLocked when no attempt is left.

        Returns the attempt's number in the window, for `record_claimed_failure`.
        """
        settings = self._settings
        result = await self._services.cache.hit_window(
            f"lock:fail:{subject}", settings.lockout_threshold, settings.lockout_window
        )
        if not result.allowed:
            raise AccountLocked(max(int(result.retry_after) + 1, 1))
        return result.count

    async def record_claimed_failure(
        self, work: UnitOfWork, subject: str, user: User | None, attempt: int
    ) -> bool:
        """The claimed attempt `attempt` failed: lock if it was the last one allowed.

        The full count stays in the cache (it ages out of the window): attempts racing this one
        read the account before it was locked, and the count is what refuses them.
        """
        if attempt < self._settings.lockout_threshold:
            return False
        return await self._lock(work, subject, user, attempt)

    async def _lock(self, work: UnitOfWork, subject: str, user: User | None, failures: int) -> bool:
        settings = self._settings
        if user is None:
            until = time.time() + settings.lockout_duration
            await self._services.cache.set(
                f"lock:until:{subject}", str(until), settings.lockout_duration
            )
            return True
        locked_until = utcnow() + timedelta(seconds=settings.lockout_duration)
        await UserRecords(work.conn).update(user.id, locked_until=locked_until)
        await work.audit(
            "user.locked",
            user_id=user.id,
            details={"until": locked_until.isoformat(), "failures": failures},
        )
        return True

    async def record_refusal(
        self,
        caller: Caller,
        event: str,
        subject: str,
        user: User | None,
        *,
        details: dict[str, Any],
        session_id: uuid.UUID | None = None,
    ) -> None:
        """A wrong password or code: its audit row and its count toward the lock, together."""
        async with unit_of_work(caller, self._services.events) as work:
            await self.record_refusal_in(
                work, event, subject, user, details=details, session_id=session_id
            )

    async def record_refusal_in(
        self,
        work: UnitOfWork,
        event: str,
        subject: str,
        user: User | None,
        *,
        details: dict[str, Any],
        session_id: uuid.UUID | None = None,
    ) -> None:
        """`record_refusal` inside the use case's own unit of work."""
        await work.audit(
            event,
            outcome="failure",
            user_id=user.id if user else None,
            session_id=session_id,
            details=details,
        )
        await self.record_failure(work, subject, user)

    async def reset(self, subject: str) -> None:
        await self._services.cache.delete(f"lock:fail:{subject}")
