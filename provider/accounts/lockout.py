"""Account lockout: N failed logins within a window lock the account for a while.

Failures are counted per account, and per typed identifier when no account matches, so an attacker
sees the same lock for an address that exists and one that does not (no enumeration by lockout).
"""

from __future__ import annotations

import time
from datetime import timedelta

from provider.cache.base import CacheUnavailable
from provider.cache.fallback import RETRY_AFTER
from provider.context import Services
from provider.errors import ApiError
from provider.storage.models import User
from provider.storage.unit_of_work import UnitOfWork, utcnow


class AccountLocked(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            423,
            "account_locked",
            "Too many failed sign-in attempts; the account is locked for a while.",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class LockoutUnavailable(ApiError):
    """The lock of an unknown identifier cannot be read: fail closed, the caller retries."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "temporarily_unavailable",
            "The account lock cannot be checked right now; try again shortly.",
            headers={"Retry-After": str(int(RETRY_AFTER))},
        )


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
            raise LockoutUnavailable() from exc
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
        if user is None:
            until = time.time() + settings.lockout_duration
            await self._services.cache.set(
                f"lock:until:{subject}", str(until), settings.lockout_duration
            )
            return True
        locked_until = utcnow() + timedelta(seconds=settings.lockout_duration)
        await User.filter(id=user.id).using_db(work.conn).update(locked_until=locked_until)
        await work.audit(
            "user.locked",
            user_id=user.id,
            details={"until": locked_until.isoformat(), "failures": result.count},
        )
        return True

    async def reset(self, subject: str) -> None:
        await self._services.cache.delete(f"lock:fail:{subject}")
