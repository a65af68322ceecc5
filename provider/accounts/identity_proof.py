"""Proving it is still the owner before a change that could lock them out: the current password
(counted toward the lockout like a login) or, without it, a recent sign-in."""

from __future__ import annotations

from provider.accounts.auth_age import require_recent_authentication
from provider.accounts.lockout import Lockout
from provider.context import Caller, Services
from provider.domain_errors import IncorrectPassword
from provider.storage.models import Session, User
from provider.storage.unit_of_work import unit_of_work


async def prove_identity(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    password: str | None,
    *,
    failure_event: str,
) -> None:
    """Raise IncorrectPassword (audited as `failure_event`) or ReauthenticationRequired unless
    the password is right or, when none is given, the sign-in is within
    PROVIDER_REAUTHENTICATION_MAX_AGE."""
    if not password:
        require_recent_authentication(services.settings, session)
        return
    lockout = Lockout(services)
    subject = str(user.id)
    await lockout.ensure_not_locked(subject, user)
    if await services.passwords.verify(user.password_hash, password):
        await lockout.reset(subject)
        return
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            failure_event,
            outcome="failure",
            user_id=user.id,
            session_id=session.id,
            details={"reason": "invalid_password"},
        )
        await lockout.record_failure(work, subject, user)
    raise IncorrectPassword("The current password is incorrect.")
