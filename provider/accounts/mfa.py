"""Two-factor authentication: TOTP (RFC 6238) with single-use backup codes.

The TOTP secret is sealed at rest (AES-256-GCM, provider.crypto.sealing) with the user id as
associated data. A code is accepted for the current 30-second step or one step either side
(RFC 6238 §5.2 allows a small window for clock drift), and at most once: the last accepted step is
stored and only a later step is accepted after it ("the verifier MUST NOT accept the second
attempt of the same OTP", §5.2). Claiming a step or a backup code is a conditional update, so two
concurrent requests cannot both spend it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
import segno

from provider.accounts.auth_age import require_recent_authentication
from provider.accounts.lockout import Lockout
from provider.accounts.notices import account_notice
from provider.config import Settings
from provider.context import Caller, Services
from provider.crypto.sealing import SealError, seal, unseal
from provider.crypto.tokens import keyed_hash
from provider.domain_errors import (
    Conflict,
    IncorrectCode,
    IncorrectPassword,
    InvalidEnrolmentCode,
    MfaAlreadyEnabled,
    MfaEnrolmentNotStarted,
    MfaNotEnabled,
)
from provider.mail.mailer import MailKind
from provider.storage.accounts import BackupCodes, UserRecords
from provider.storage.db import default_connection
from provider.storage.models import Session, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

TOTP_INTERVAL = 30
TOTP_DIGITS = 6
TOTP_DRIFT_STEPS = 1
BACKUP_CODE_COUNT = 10
# 10 characters of a 31-letter alphabet without look-alikes (0/o, 1/l/i): ~49.5 bits each.
BACKUP_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
BACKUP_CODE_LENGTH = 10
METHODS = ("totp", "backup_code")
SEALING_PURPOSE = "totp-secret"

log = logging.getLogger("provider.mfa")


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


def mfa_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def seal_totp_secret(settings: Settings, user_id: uuid.UUID | str, secret: str) -> str:
    return seal(settings.secret, secret, purpose=SEALING_PURPOSE, context=str(user_id))


def unseal_totp_secret(settings: Settings, user_id: uuid.UUID | str, sealed: str) -> str:
    return unseal(settings.secret, sealed, purpose=SEALING_PURPOSE, context=str(user_id))


def _normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _backup_code_hash(settings: Settings, code: str) -> str:
    return keyed_hash(settings.secret, "backup-code:" + _normalize_code(code), length=64)


def _new_backup_code() -> str:
    raw = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def matching_totp_step(secret: str, code: str, after: int | None, now: float) -> int | None:
    """The earliest step within the drift window that produces `code` and is after `after`."""
    code = _normalize_code(code)
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    current = int(now) // TOTP_INTERVAL
    # Every candidate is compared, in constant time, so timing tells nothing.
    matches = [
        step
        for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1)
        if hmac.compare_digest(totp.generate_otp(step), code)
    ]
    return next((step for step in matches if after is None or step > after), None)


async def _claim_totp(work: UnitOfWork, settings: Settings, user: User, code: str) -> bool:
    if user.totp_secret is None:
        return False
    try:
        secret = unseal_totp_secret(settings, user.id, user.totp_secret)
    except SealError:
        log.error(
            "TOTP secret cannot be unsealed; was PROVIDER_SECRET_KEY changed?",
            extra={"user_id": str(user.id)},
        )
        return False
    step = matching_totp_step(secret, code, user.totp_last_step, time.time())
    if step is None:
        return False
    claimed = await UserRecords(work.conn).claim_totp_step(user.id, user.totp_secret, step)
    if claimed:
        user.totp_last_step = step
    return claimed


async def _claim_backup_code(work: UnitOfWork, settings: Settings, user: User, code: str) -> bool:
    if len(_normalize_code(code)) != BACKUP_CODE_LENGTH:
        return False
    return await BackupCodes(work.conn).claim(user.id, _backup_code_hash(settings, code), utcnow())


async def accept_second_factor(
    work: UnitOfWork, settings: Settings, user: User, code: str
) -> str | None:
    """Spend a TOTP code or a backup code of `user` inside `work`; the method used, or None."""
    if not mfa_enabled(user):
        return None
    if await _claim_totp(work, settings, user, code):
        return "totp"
    if await _claim_backup_code(work, settings, user, code):
        return "backup_code"
    return None


async def _replace_backup_codes(work: UnitOfWork, settings: Settings, user: User) -> list[str]:
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    hashes = [_backup_code_hash(settings, code) for code in codes]
    await BackupCodes(work.conn).replace(user.id, hashes, utcnow())
    return codes


async def start_totp_enrolment(
    services: Services, caller: Caller, user: User, session: Session
) -> Enrolment:
    """A fresh secret, kept sealed as pending until a first code confirms the user has it."""
    if mfa_enabled(user):
        raise MfaAlreadyEnabled()
    settings = services.settings
    require_recent_authentication(settings, session)
    secret = pyotp.random_base32()  # 160 bits, RFC 4226 §4 R6 recommends at least that
    async with unit_of_work(caller, services.events) as work:
        await UserRecords(work.conn).update(
            user.id, totp_pending_secret=seal_totp_secret(settings, user.id, secret)
        )
        await work.audit("mfa.enrolment_started", user_id=user.id, details={"method": "totp"})
    return _enrolment(settings, user, secret)


def pending_enrolment(settings: Settings, user: User) -> Enrolment | None:
    """The enrolment started and not yet confirmed, to show its QR code again; else None."""
    if mfa_enabled(user) or user.totp_pending_secret is None:
        return None
    try:
        secret = unseal_totp_secret(settings, user.id, user.totp_pending_secret)
    except SealError:
        return None  # sealed under another key: the user starts over
    return _enrolment(settings, user, secret)


def _enrolment(settings: Settings, user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=user.email, issuer_name=settings.totp_label
    )
    qr = segno.make(uri, error="m", micro=False).svg_data_uri(scale=4, border=2)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=qr)


async def confirm_totp_enrolment(
    services: Services, caller: Caller, user: User, session: Session, code: str
) -> list[str]:
    """Turn TOTP on with a first valid code; returns the backup codes (shown this once)."""
    if mfa_enabled(user):
        raise MfaAlreadyEnabled()
    pending = user.totp_pending_secret
    if pending is None:
        raise MfaEnrolmentNotStarted()
    settings = services.settings
    # Both steps: a pending secret started in a fresh session must not be confirmed later.
    require_recent_authentication(settings, session)
    step = matching_totp_step(
        unseal_totp_secret(settings, user.id, pending), code, None, time.time()
    )
    if step is None:
        raise InvalidEnrolmentCode("The code is incorrect; check the device's clock.")
    async with unit_of_work(caller, services.events) as work:
        if not await UserRecords(work.conn).enable_totp(user.id, pending, step, utcnow()):
            raise Conflict("The enrolment changed meanwhile; start again.")
        codes = await _replace_backup_codes(work, settings, user)
        await work.audit(
            "mfa.enabled", user_id=user.id, session_id=session.id, details={"method": "totp"}
        )
        work.after_commit(account_notice(services, caller, user, MailKind.MFA_ENABLED))
    return codes


async def _reauthenticate(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    password: str,
    action: str,
) -> Lockout:
    """The password again, for an action that weakens or reissues the second factor."""
    if not mfa_enabled(user):
        raise MfaNotEnabled()
    lockout = Lockout(services)
    await lockout.ensure_not_locked(str(user.id), user)
    if not await services.passwords.verify(user.password_hash, password):
        await _record_failure(caller, lockout, user, session, action, "invalid_password")
        raise IncorrectPassword()
    return lockout


async def _record_failure(
    caller: Caller,
    lockout: Lockout,
    user: User,
    session: Session | None,
    action: str,
    reason: str,
) -> None:
    await lockout.record_refusal(
        caller,
        "mfa.reauthentication_failed",
        str(user.id),
        user,
        details={"action": action, "reason": reason},
        session_id=session.id if session else None,
    )


async def _record_wrong_code(
    work: UnitOfWork, lockout: Lockout, user: User, session: Session, action: str, attempt: int
) -> None:
    """The claimed `attempt` was a wrong code: its audit row, and the lock if it was the last."""
    await work.audit(
        "mfa.reauthentication_failed",
        outcome="failure",
        user_id=user.id,
        session_id=session.id,
        details={"action": action, "reason": "invalid_code"},
    )
    await lockout.record_claimed_failure(work, str(user.id), user, attempt)


async def disable_totp(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    password: str,
    code: str,
) -> None:
    """Turn TOTP off: the password AND a current code (or a backup code) are required."""
    lockout = await _reauthenticate(
        services, caller, user, session, password=password, action="disable"
    )
    settings = services.settings
    # Counted before the code is evaluated: codes sent at once cannot outrun the lockout.
    attempt = await lockout.claim_attempt(str(user.id))
    async with unit_of_work(caller, services.events) as work:
        method = await accept_second_factor(work, settings, user, code)
        if method is None:
            await _record_wrong_code(work, lockout, user, session, "disable", attempt)
        else:
            await UserRecords(work.conn).remove_totp(user.id)
            await BackupCodes(work.conn).delete_all(user.id)
            await work.audit(
                "mfa.disabled", user_id=user.id, session_id=session.id, details={"method": method}
            )
            work.after_commit(account_notice(services, caller, user, MailKind.MFA_DISABLED))
    if method is None:
        raise IncorrectCode()
    await lockout.reset(str(user.id))


async def regenerate_backup_codes(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    password: str,
    code: str,
) -> list[str]:
    """Replace every backup code (the old ones stop working); password and a code required."""
    lockout = await _reauthenticate(
        services, caller, user, session, password=password, action="backup_codes"
    )
    settings = services.settings
    # Counted before the code is evaluated: codes sent at once cannot outrun the lockout.
    attempt = await lockout.claim_attempt(str(user.id))
    codes: list[str] = []
    async with unit_of_work(caller, services.events) as work:
        method = await accept_second_factor(work, settings, user, code)
        if method is None:
            await _record_wrong_code(work, lockout, user, session, "backup_codes", attempt)
        else:
            codes = await _replace_backup_codes(work, settings, user)
            await work.audit(
                "mfa.backup_codes_regenerated",
                user_id=user.id,
                session_id=session.id,
                details={"method": method},
            )
    if method is None:
        raise IncorrectCode()
    await lockout.reset(str(user.id))
    return codes


async def mfa_status(user: User) -> dict[str, Any]:
    remaining = await BackupCodes(default_connection()).remaining(user.id)
    return {
        "enabled": mfa_enabled(user),
        "methods": list(METHODS) if mfa_enabled(user) else [],
        "totp": {
            "enabled": mfa_enabled(user),
            "enabled_at": user.totp_enabled_at.isoformat() if user.totp_enabled_at else None,
            "enrolment_pending": user.totp_pending_secret is not None,
        },
        "backup_codes_remaining": remaining if mfa_enabled(user) else 0,
    }
