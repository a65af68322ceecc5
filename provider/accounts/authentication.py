"""Password sign-in: the one path used by the JSON API and the hosted pages."""

from __future__ import annotations

import unicodedata

from provider.accounts.lockout import Lockout
from provider.accounts.mfa import mfa_enabled
from provider.accounts.users import find_by_identifier
from provider.context import Caller, Services
from provider.crypto.tokens import keyed_hash
from provider.domain_errors import (
    AccountDisabled,
    AccountLocked,
    InvalidCredentials,
    TemporarilyUnavailable,
)
from provider.ops.metrics import AUTH_OPERATIONS
from provider.storage.accounts import UserRecords
from provider.storage.db import default_connection
from provider.storage.models import User
from provider.storage.unit_of_work import unit_of_work


async def authenticate_password(
    services: Services, caller: Caller, identifier: str, password: str
) -> User:
    """Check a password with lockout; unknown account and wrong password look the same."""
    user = await find_by_identifier(identifier)
    subject = (
        str(user.id)
        if user
        else "id:"
        + keyed_hash(
            services.settings.secret, unicodedata.normalize("NFKC", identifier).strip().lower()
        )
    )
    lockout = Lockout(services)
    try:
        await lockout.ensure_not_locked(subject, user)
    except (AccountLocked, TemporarilyUnavailable):
        # The refusal costs what a wrong password costs, so timing tells nothing more.
        await services.passwords.waste(password)
        AUTH_OPERATIONS.labels(operation="login", outcome="locked").inc()
        raise
    if not await services.passwords.verify(user.password_hash if user else None, password):
        await lockout.record_refusal(
            caller, "user.login_failed", subject, user, details={"reason": "invalid_credentials"}
        )
        AUTH_OPERATIONS.labels(operation="login", outcome="invalid_credentials").inc()
        raise InvalidCredentials()
    assert user is not None
    if user.deleted_at is not None:
        AUTH_OPERATIONS.labels(operation="login", outcome="disabled").inc()
        async with unit_of_work(caller, services.events) as work:
            await work.audit(
                "user.login_failed",
                outcome="failure",
                user_id=user.id,
                details={"reason": "deleted"},
            )
        raise AccountDisabled()
    if not mfa_enabled(user):
        # With MFA on, the failures are cleared once the second factor is right too: otherwise a
        # known password would reset the count of wrong codes (provider.accounts.login).
        await lockout.reset(subject)
    await _rehash_if_needed(services, user, password)
    return user


async def _rehash_if_needed(services: Services, user: User, password: str) -> None:
    """Upgrade the stored hash when the Argon2 parameters were raised since it was made."""
    if services.passwords.needs_rehash(user.password_hash):
        user.password_hash = await services.passwords.hash(password)
        await UserRecords(default_connection()).update(user.id, password_hash=user.password_hash)
