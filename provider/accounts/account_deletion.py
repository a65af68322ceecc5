"""A user deletes their own account, may restore it during a grace period, and is erased after.

Deleting needs the current password or a recent sign-in, and is refused to the last active
administrator (someone must be left to run the provider). The account is soft deleted at once:
every session ends and signing in is refused. Until `PROVIDER_ACCOUNT_DELETION_GRACE` has passed,
the password restores it (`restore_own_account`, offered where sign-in is refused); after it,
`purge_deleted_accounts` erases the person and leaves only anonymised audit rows.
"""

from __future__ import annotations

from datetime import timedelta

from provider.accounts.identity_proof import prove_identity
from provider.accounts.limits import count_address, count_sign_in_account, sign_in_address
from provider.accounts.lockout import Lockout
from provider.accounts.users import find_by_identifier
from provider.cache.events import EventPublisher
from provider.context import Caller, Services
from provider.domain_errors import (
    AlreadyDeleted,
    InvalidCredentials,
    LastAdministrator,
    NotDeleted,
)
from provider.sessions.service import revoke_user_sessions
from provider.storage.account_deletion import AccountDeletion
from provider.storage.db import default_connection
from provider.storage.models import Session, User
from provider.storage.unit_of_work import unit_of_work, utcnow

SYSTEM = Caller(ip="", user_agent="provider-maintenance", request_id="purge")


async def delete_own_account(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    current_password: str | None,
) -> User:
    """Soft delete the signed-in user's account and end every session; returns the user with
    `purge_after` set."""
    await prove_identity(
        services, caller, user, session, current_password, failure_event="user.delete_failed"
    )
    now = utcnow()
    purge_after = now + timedelta(seconds=services.settings.account_deletion_grace)
    async with unit_of_work(caller, services.events) as work:
        store = AccountDeletion(work.conn)
        if user.role == "admin" and not await store.other_active_admins(user.id):
            raise LastAdministrator()
        if not await store.mark_deleted(user.id, now, purge_after):
            raise AlreadyDeleted()
        revoked = await revoke_user_sessions(work, user.id, reason="account_deleted")
        await work.audit(
            "user.deleted",
            user_id=user.id,
            session_id=session.id,
            details={"purge_after": purge_after.isoformat(), "sessions_revoked": revoked},
        )
    user.deleted_at, user.purge_after = now, purge_after
    return user


async def restore_own_account(
    services: Services, caller: Caller, *, identifier: str, password: str
) -> User:
    """The password of a self-deleted account in its grace period brings it back. Under the
    sign-in limits and lockout; an unknown account and a wrong password look the same."""
    await count_address(services, caller, sign_in_address(services.settings))
    await count_sign_in_account(services, identifier)
    user = await find_by_identifier(identifier)
    lockout = Lockout(services)
    subject = str(user.id) if user is not None else "restore:" + identifier
    if user is not None:
        await lockout.ensure_not_locked(subject, user)
    if user is None or not await services.passwords.verify(user.password_hash, password):
        await lockout.record_refusal(
            caller, "user.restore_failed", subject, user, details={"reason": "invalid_credentials"}
        )
        raise InvalidCredentials()
    now = utcnow()
    async with unit_of_work(caller, services.events) as work:
        if not await AccountDeletion(work.conn).restore(user.id, now):
            raise NotDeleted("This account cannot be restored.")
        await work.audit("user.restored", user_id=user.id)
    await lockout.reset(subject)
    user.deleted_at, user.purge_after = None, None
    return user


async def purge_deleted_accounts(events: EventPublisher) -> int:
    """Erase every account whose grace period is over, one transaction each; how many."""
    purged = 0
    for user_id in await AccountDeletion(default_connection()).due(utcnow()):
        async with unit_of_work(SYSTEM, events) as work:
            if await AccountDeletion(work.conn).purge(user_id, utcnow()):
                await work.audit("user.purged", user_id=user_id)
                purged += 1
    return purged
