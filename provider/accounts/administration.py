"""What an administrator may do to an account: each action one transaction, audited once.

The JSON admin API and the hosted admin pages both call these functions, so a lock, a deletion or a
role change is written (and audited) one way only. Every audit row names the target as `user_id`
and the administrator as `details.admin_id`. An administrator cannot lock, delete, demote, force a
reset on or reset the second factor of their own account: that keeps at least one administrator
able to undo mistakes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from provider.accounts.notices import account_notice
from provider.accounts.password_reset import mail_reset_link
from provider.config import Settings
from provider.context import Caller, Services
from provider.domain_errors import (
    AlreadyDeleted,
    InvalidRequest,
    MfaNotEnabled,
    NotDeleted,
    NotFound,
    OwnAccount,
    Phrase,
    UserDeleted,
)
from provider.mail.mailer import MailKind
from provider.sessions.devices import describe_device
from provider.sessions.service import revoke_user_sessions, session_is_live
from provider.storage.accounts import AccountActivity, BackupCodes, UserRecords
from provider.storage.db import default_connection
from provider.storage.models import ROLES, AuditEvent, Session, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

# "Locked until further notice": far enough to mean forever, near enough for every database.
LOCK_INDEFINITELY = timedelta(days=100 * 365)
MAX_LOCK_SECONDS = 10 * 365 * 86_400
# Not an Argon2 hash, so no password ever verifies against it: the user must reset it.
UNUSABLE_PASSWORD = "!reset-required"
STATUSES = ("active", "locked", "deleted", "unverified")
SESSIONS_SHOWN = 50
LOGINS_SHOWN = 10


def user_status(user: User, now: datetime) -> str:
    """One word for lists: deleted wins over locked, locked over unverified."""
    if user.deleted_at is not None:
        return "deleted"
    if user.locked_until is not None and user.locked_until > now:
        return "locked"
    if user.email_verified_at is None:
        return "unverified"
    return "active"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def admin_user_view(user: User, now: datetime) -> dict[str, Any]:
    """What an administrator sees of an account (never a hash or a secret)."""
    remaining = user.locked_until - now if user.locked_until is not None else None
    locked = remaining is not None and remaining.total_seconds() > 0
    return {
        "id": str(user.id),
        "email": user.email,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "status": user_status(user, now),
        "email_verified": user.email_verified_at is not None,
        "email_verified_at": _iso(user.email_verified_at),
        "locked": locked,
        "locked_until": _iso(user.locked_until) if locked else None,
        "locked_indefinitely": remaining is not None and remaining > LOCK_INDEFINITELY / 2,
        "deleted": user.deleted_at is not None,
        "deleted_at": _iso(user.deleted_at),
        "mfa_enabled": user.totp_enabled_at is not None,
        "password_reset_required": user.password_hash == UNUSABLE_PASSWORD,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


def admin_session_view(session: Session, live: bool) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "live": live,
        "ip": session.ip,
        "user_agent": session.user_agent,
        "device": describe_device(session.user_agent),
        "amr": session.amr,
        "created_at": session.created_at.isoformat(),
        "last_active_at": session.last_active_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        "revoked_at": _iso(session.revoked_at),
        "revoked_reason": session.revoked_reason,
        "compromised_at": _iso(session.compromised_at),
    }


def login_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "time": event.created_at.isoformat(),
        "ip": event.ip,
        "user_agent": event.user_agent,
        "device": describe_device(event.user_agent),
        "client_id": event.client_id,
        "session_id": str(event.session_id) if event.session_id else None,
        "amr": event.details.get("amr"),
    }


async def user_detail(user: User, settings: Settings) -> dict[str, Any]:
    """The account with its recent sessions, MFA state and last sign-ins (from the audit trail)."""
    now = utcnow()
    activity = AccountActivity(default_connection())
    sessions = await activity.recent_sessions(user.id, SESSIONS_SHOWN)
    logins = await activity.recent_logins(user.id, LOGINS_SHOWN)
    return {
        "user": admin_user_view(user, now),
        "mfa": {
            "totp_enabled": user.totp_enabled_at is not None,
            "totp_enabled_at": _iso(user.totp_enabled_at),
            "backup_codes_left": await BackupCodes(default_connection()).remaining(user.id),
            "enrolment_pending": user.totp_pending_secret is not None,
        },
        "sessions": [
            admin_session_view(session, session_is_live(session, settings, now))
            for session in sessions
        ],
        "last_logins": [login_view(event) for event in logins],
    }


async def find_target(user_id: uuid.UUID) -> User:
    user = await UserRecords(default_connection()).by_id(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


# What an administrator cannot do to their own account on the console, each a whole sentence
# (translated as one).
OWN_ROLE = "Administrators cannot change the role of their own account here."
OWN_LOCK = "Administrators cannot lock their own account here."
OWN_RESET = "Administrators cannot force a password reset on their own account here."
OWN_MFA_RESET = (
    "Administrators cannot reset the two-factor authentication of their own account here."
)
OWN_DELETION = "Administrators cannot delete their own account here."


def _refuse_own_account(admin: User, target: User, refusal: str) -> None:
    if admin.id == target.id:
        raise OwnAccount(refusal)


async def _update(work: UnitOfWork, target: User, **changes: Any) -> None:
    """Write `changes` (and updated_at) to the row and mirror them on `target`."""
    changes["updated_at"] = utcnow()
    await UserRecords(work.conn).update(target.id, **changes)
    for name, value in changes.items():
        setattr(target, name, value)


def _details(admin: User, **extra: Any) -> dict[str, Any]:
    return {"admin_id": str(admin.id), **extra}


async def _set_role(work: UnitOfWork, admin: User, target: User, role: str) -> bool:
    """Change the role; False when it already was `role`."""
    if role not in ROLES:
        raise InvalidRequest(Phrase("role must be one of %(roles)s.", roles=", ".join(ROLES)))
    if target.role == role:
        return False
    _refuse_own_account(admin, target, OWN_ROLE)
    previous = target.role
    await _update(work, target, role=role)
    await work.audit(
        "admin.user_updated",
        user_id=target.id,
        details=_details(admin, changes={"role": {"from": previous, "to": role}}),
    )
    return True


async def _set_email_verified(work: UnitOfWork, admin: User, target: User, verified: bool) -> bool:
    """Mark the address verified (now) or unverified; False when nothing changes."""
    if (target.email_verified_at is not None) == verified:
        return False
    value = utcnow() if verified else None
    await _update(work, target, email_verified_at=value)
    await work.audit(
        "admin.user_updated",
        user_id=target.id,
        details=_details(admin, changes={"email_verified": verified}),
    )
    return True


async def _lock_user(
    work: UnitOfWork, admin: User, target: User, seconds: int | None = None
) -> int:
    """Lock the account (for `seconds`, else indefinitely) and end its sessions; how many."""
    _refuse_own_account(admin, target, OWN_LOCK)
    now = utcnow()
    until = now + (timedelta(seconds=seconds) if seconds else LOCK_INDEFINITELY)
    await _update(work, target, locked_until=until)
    # A lock that left the sessions alive would not stop someone already signed in.
    revoked = await revoke_user_sessions(work, target.id, reason="admin_locked")
    await work.audit(
        "admin.user_locked",
        user_id=target.id,
        details=_details(
            admin, until=until.isoformat(), indefinite=seconds is None, sessions_revoked=revoked
        ),
    )
    return revoked


async def _unlock_user(work: UnitOfWork, admin: User, target: User) -> bool:
    """Lift a lock (an administrator's or the failed-login lockout); False if none was set."""
    if target.locked_until is None:
        return False
    await _update(work, target, locked_until=None)
    await work.audit("admin.user_unlocked", user_id=target.id, details=_details(admin))
    return True


async def _revoke_sessions(work: UnitOfWork, admin: User, target: User) -> int:
    revoked = await revoke_user_sessions(work, target.id, reason="admin_revoked")
    await work.audit(
        "admin.sessions_revoked", user_id=target.id, details=_details(admin, count=revoked)
    )
    return revoked


async def _force_password_reset(work: UnitOfWork, admin: User, target: User) -> int:
    """End every session and make the password unusable; the user must reset it by mail."""
    _refuse_own_account(admin, target, OWN_RESET)
    if target.deleted_at is not None:
        raise UserDeleted()
    await _update(work, target, password_hash=UNUSABLE_PASSWORD)
    revoked = await revoke_user_sessions(work, target.id, reason="admin_password_reset")
    await work.audit(
        "admin.password_reset_forced",
        user_id=target.id,
        details=_details(admin, sessions_revoked=revoked),
    )
    return revoked


async def _reset_mfa(work: UnitOfWork, admin: User, target: User) -> int:
    """Remove the second factor of a user who lost it: TOTP (active or pending) and every backup
    code go, and every session and refresh family ends, as the account may be in other hands.

    A password reset by mail never does this (the mailbox alone must not remove a factor); an
    administrator, who can check who is asking, does. Not on one's own account: another
    administrator must, so a stolen admin session cannot strip its victim's factor.
    """
    _refuse_own_account(admin, target, OWN_MFA_RESET)
    if target.totp_secret is None and target.totp_pending_secret is None:
        raise MfaNotEnabled()
    await _update(
        work,
        target,
        totp_secret=None,
        totp_pending_secret=None,
        totp_enabled_at=None,
        totp_last_step=None,
    )
    await BackupCodes(work.conn).delete_all(target.id)
    revoked = await revoke_user_sessions(work, target.id, reason="admin_mfa_reset")
    await work.audit(
        "admin.mfa_reset", user_id=target.id, details=_details(admin, sessions_revoked=revoked)
    )
    return revoked


async def _delete_user(work: UnitOfWork, admin: User, target: User) -> int:
    """Soft delete: the row stays for the audit trail; every session ends at once.

    A conditional update, so of two concurrent deletions exactly one succeeds and is audited.
    """
    _refuse_own_account(admin, target, OWN_DELETION)
    now = utcnow()
    if not await UserRecords(work.conn).mark_deleted(target.id, now):
        raise AlreadyDeleted()
    target.deleted_at = now
    revoked = await revoke_user_sessions(work, target.id, reason="admin_deleted")
    await work.audit(
        "admin.user_deleted", user_id=target.id, details=_details(admin, sessions_revoked=revoked)
    )
    return revoked


async def _restore_user(work: UnitOfWork, admin: User, target: User) -> None:
    now = utcnow()
    if not await UserRecords(work.conn).mark_restored(target.id, now):
        raise NotDeleted()
    target.deleted_at = None
    await work.audit("admin.user_restored", user_id=target.id, details=_details(admin))


# --- the use cases: one unit of work each -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """The fields of an administrator's edit; None leaves a field as it is."""

    role: str | None = None
    email_verified: bool | None = None
    locked: bool | None = None
    lock_seconds: int | None = None


async def change_account(
    services: Services, caller: Caller, admin: User, target: User, changes: AccountChanges
) -> None:
    """Apply every change of one edit together: all of them, or none if one is refused."""
    if changes.lock_seconds is not None and changes.locked is not True:
        raise InvalidRequest("lock_seconds goes with locked: true.")
    async with unit_of_work(caller, services.events) as work:
        if changes.role is not None:
            await _set_role(work, admin, target, changes.role)
        if changes.email_verified is not None:
            await _set_email_verified(work, admin, target, changes.email_verified)
        if changes.locked is True:
            await _lock_user(work, admin, target, changes.lock_seconds)
        elif changes.locked is False:
            await _unlock_user(work, admin, target)


async def end_sessions(services: Services, caller: Caller, admin: User, target: User) -> int:
    """End every session and refresh family of the user; how many sessions ended."""
    async with unit_of_work(caller, services.events) as work:
        return await _revoke_sessions(work, admin, target)


async def require_password_reset(
    services: Services, caller: Caller, admin: User, target: User
) -> int:
    """Make the password unusable, end every session and mail a reset link, together."""
    async with unit_of_work(caller, services.events) as work:
        revoked = await _force_password_reset(work, admin, target)
        await mail_reset_link(work, services, caller, target)
    return revoked


async def reset_second_factor(services: Services, caller: Caller, admin: User, target: User) -> int:
    """Remove the user's second factor, end every session, and tell the user by mail."""
    async with unit_of_work(caller, services.events) as work:
        revoked = await _reset_mfa(work, admin, target)
        work.after_commit(account_notice(services, caller, target, MailKind.MFA_RESET))
    return revoked


async def delete_account(services: Services, caller: Caller, admin: User, target: User) -> int:
    async with unit_of_work(caller, services.events) as work:
        return await _delete_user(work, admin, target)


async def restore_account(services: Services, caller: Caller, admin: User, target: User) -> None:
    async with unit_of_work(caller, services.events) as work:
        await _restore_user(work, admin, target)
