"""Forgotten passwords (a mailed single-use link) and password changes by a signed-in user.

A reset request answers the same way, doing the same work, whether or not the account exists
(OWASP Forgot Password Cheat Sheet): both paths look the user up, make a token and write one
audit row in one transaction; only the existing account also gets the token row and the mail.
No path runs Argon2, so no path is ~100 ms slower than the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provider.accounts.identity import normalize_email
from provider.accounts.limits import (
    count_arrival,
    count_reset_mail,
    mail_address,
    reset_password_address,
)
from provider.accounts.lockout import Lockout
from provider.accounts.mfa import mfa_enabled
from provider.accounts.notices import account_notice
from provider.accounts.one_time_tokens import (
    RESET_PASSWORD,
    VERIFY_EMAIL,
    consume_one_time_token,
    find_one_time_token,
    issue_one_time_token,
    retire_one_time_tokens,
)
from provider.accounts.password_policy import password_problems
from provider.cache.ratelimit import Allowance
from provider.context import Caller, Services
from provider.crypto.tokens import new_token, token_hash
from provider.domain_errors import IncorrectPassword, InvalidOneTimeToken, ValidationFailed
from provider.mail.mailer import MailKind, action_link
from provider.sessions.service import revoke_user_sessions
from provider.storage.accounts import UserRecords
from provider.storage.db import default_connection
from provider.storage.models import Session, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

RESET_PATH = "/password/reset"
# The one answer to "forgot password", whether or not the address has an account.
RESET_MAIL_PROMISE = "If an account uses this address, a link to reset its password is on its way."


def invalid_reset_token() -> InvalidOneTimeToken:
    return InvalidOneTimeToken("The reset link is invalid, expired or already used.")


def _weak_password(problems: list[str]) -> ValidationFailed:
    return ValidationFailed({"password": problems})


async def request_password_reset(services: Services, caller: Caller, email: str) -> None:
    """Mail a reset link if `email` belongs to a live account; otherwise, silently, nothing."""
    normalized = normalize_email(email)
    users = UserRecords(default_connection())
    user = await users.live_by_email(normalized) if normalized else None
    async with unit_of_work(caller, services.events) as work:
        if user is None:
            token_hash(new_token())  # the token the other path makes, for equal work
            await work.audit(
                "password.reset_requested",
                outcome="failure",
                details={"reason": "unknown_account"},
            )
            return
        await mail_reset_link(work, services, caller, user)


async def mail_reset_link(work: UnitOfWork, services: Services, caller: Caller, user: User) -> None:
    """Issue a reset token in `work` and mail its link once the transaction commits."""
    settings = services.settings
    token = await issue_one_time_token(
        work, user.id, RESET_PASSWORD, settings.password_reset_ttl, {"email": user.email}
    )
    await work.audit("password.reset_requested", user_id=user.id)
    work.after_commit(
        account_notice(
            services,
            caller,
            user,
            MailKind.RESET_PASSWORD,
            link=action_link(settings.issuer, RESET_PATH, token=token),
            minutes=settings.password_reset_ttl // 60,
            # A reset proves control of the mailbox only: it never removes the second
            # factor, which only an administrator can reset.
            mfa_on=mfa_enabled(user),
        )
    )


async def forgot_password(
    services: Services, caller: Caller, read_email: Callable[[], str]
) -> None:
    """A visitor asks for a reset link: the windows of the address and of the recipient, then
    `request_password_reset`.

    The caller's mail requests are counted before `read_email` gives the address. The
    recipient's window is per address typed (its NFKC, trimmed, lower-case form), so one mailbox
    gets at most `ratelimit_mail_per_account` links per mail window whoever asks.
    """
    _, email = await count_arrival(services, caller, mail_address(services.settings), read_email)
    await count_reset_mail(services, email)
    await request_password_reset(services, caller, email)


@dataclass(frozen=True, slots=True)
class NewPassword:
    """A reset link's token and the password chosen with it."""

    token: str
    password: str


@dataclass(frozen=True, slots=True)
class PasswordReset:
    user: User
    allowance: Allowance


async def reset_password(
    services: Services, caller: Caller, read: Callable[[], NewPassword]
) -> PasswordReset:
    """Set a new password with a reset token; every session and refresh family of the user ends.

    The arrival is counted against the per-address window before `read` gives the form. The
    policy is checked before the token is consumed, so a refused password can be retried with
    the same link.
    """
    allowance, form = await count_arrival(
        services, caller, reset_password_address(services.settings), read
    )
    token, password = form.token, form.password
    row = await find_one_time_token(token, RESET_PASSWORD)
    user = await UserRecords(default_connection()).by_id(row.user_id) if row else None
    if row is None or user is None or user.deleted_at is not None:
        raise invalid_reset_token()
    problems = password_problems(password, user.email, user.username)
    if problems:
        raise _weak_password(problems)
    password_hash = await services.passwords.hash(password)
    async with unit_of_work(caller, services.events) as work:
        if await consume_one_time_token(work, token, RESET_PASSWORD) is None:
            raise invalid_reset_token()
        now = utcnow()
        changes: dict[str, object] = {"password_hash": password_hash, "locked_until": None}
        # The link reached the address it was sent to: that proves control of it.
        if user.email_verified_at is None and row.data.get("email") == user.email:
            changes["email_verified_at"] = now
            await retire_one_time_tokens(work, user.id, VERIFY_EMAIL)
        await UserRecords(work.conn).update(user.id, **changes)
        await retire_one_time_tokens(work, user.id, RESET_PASSWORD)
        await revoke_user_sessions(work, user.id, reason="password_reset")
        await work.audit("password.reset", user_id=user.id)
        work.after_commit(
            account_notice(services, caller, user, MailKind.PASSWORD_CHANGED, reset=True)
        )
    await Lockout(services).reset(str(user.id))
    return PasswordReset(user, allowance)


async def change_password(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    current_password: str,
    new_password: str,
) -> int:
    """Replace the password of a signed-in user; every other session ends. Returns how many.

    A wrong current password counts toward the account lockout like a failed login.
    """
    lockout = Lockout(services)
    subject = str(user.id)
    await lockout.ensure_not_locked(subject, user)
    if not await services.passwords.verify(user.password_hash, current_password):
        async with unit_of_work(caller, services.events) as work:
            await work.audit(
                "password.change_failed",
                outcome="failure",
                user_id=user.id,
                session_id=session.id,
                details={"reason": "invalid_password"},
            )
            await lockout.record_failure(work, subject, user)
        raise IncorrectPassword("The current password is incorrect.")
    problems = password_problems(new_password, user.email, user.username)
    if problems:
        raise _weak_password(problems)
    password_hash = await services.passwords.hash(new_password)
    async with unit_of_work(caller, services.events) as work:
        await UserRecords(work.conn).update(user.id, password_hash=password_hash)
        revoked = await revoke_user_sessions(
            work, user.id, reason="password_changed", keep=session.id
        )
        await retire_one_time_tokens(work, user.id, RESET_PASSWORD)
        await work.audit("password.changed", user_id=user.id, session_id=session.id)
        work.after_commit(
            account_notice(services, caller, user, MailKind.PASSWORD_CHANGED, reset=False)
        )
    await lockout.reset(subject)
    return revoked
