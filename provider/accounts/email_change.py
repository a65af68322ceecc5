"""Changing the email address: asked for with the current password (or a recent
re-authentication), proven by a link sent to the new address, and cancellable from the old one.

Asking writes two single-use tokens. The link to the new address confirms the change: only then
does the address change, verified, and the sessions stay. The notice to the old address carries
a link that cancels the change: before it is confirmed, the confirmation link dies; after it, the
old address comes back and every session ends, because whoever confirmed it may not be the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from provider.accounts.identity import IdentifierRefused, new_email
from provider.accounts.identity_proof import prove_identity
from provider.accounts.limits import (
    count_address,
    count_verification_mail,
    mail_address,
    verify_email_address,
)
from provider.accounts.one_time_tokens import (
    VERIFY_EMAIL,
    consume_one_time_token,
    issue_one_time_token,
    retire_one_time_tokens,
)
from provider.context import Caller, Services
from provider.domain_errors import (
    EmailTaken,
    InvalidOneTimeToken,
    ValidationFailed,
)
from provider.mail.mailer import MailKind, action_link
from provider.sessions.devices import describe_device
from provider.sessions.service import revoke_user_sessions
from provider.storage.db import default_connection
from provider.storage.models import OneTimeToken, Session, User
from provider.storage.profiles import Profiles
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow
from provider.storage.users import Users

CHANGE_EMAIL = "change_email"
CANCEL_EMAIL_CHANGE = "cancel_email_change"
CONFIRM_PATH = "/email/change/confirm"
CANCEL_PATH = "/email/change/cancel"


def invalid_change_link() -> InvalidOneTimeToken:
    return InvalidOneTimeToken("The link is invalid, expired or already used.")


async def request_email_change(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    new_address: str,
    current_password: str | None,
) -> str:
    """Check the proof and the address, then mail both links; returns the new address."""
    await count_address(services, caller, mail_address(services.settings))
    await prove_identity(
        services, caller, user, session, current_password, failure_event="email.change_failed"
    )
    email = _acceptable_address(user, new_address)
    if await Profiles(default_connection()).email_taken(email, user.id):
        raise EmailTaken(email, None, "")
    await count_verification_mail(services, str(user.id))
    settings = services.settings
    ttl = settings.email_verification_ttl
    data = {
        "old_email": user.email,
        "new_email": email,
        "old_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else None,
    }
    async with unit_of_work(caller, services.events) as work:
        for purpose in (CHANGE_EMAIL, CANCEL_EMAIL_CHANGE):
            await retire_one_time_tokens(work, user.id, purpose)
        confirm = await issue_one_time_token(work, user.id, CHANGE_EMAIL, ttl, data)
        # The cancel link outlives the confirmation: it can still undo a confirmed change.
        cancel = await issue_one_time_token(work, user.id, CANCEL_EMAIL_CHANGE, ttl * 7, data)
        await work.audit(
            "email.change_requested",
            user_id=user.id,
            session_id=session.id,
            details={"new_email": email},
        )
        hours = ttl // 3600 or 1
        context = _mail_context(caller, user, new_email=email, hours=hours)
        work.after_commit(
            _mail(
                services,
                MailKind.CHANGE_EMAIL,
                email,
                {**context, "link": action_link(settings.issuer, CONFIRM_PATH, token=confirm)},
                user.locale or caller.locale,
            )
        )
        work.after_commit(
            _mail(
                services,
                MailKind.EMAIL_CHANGE_NOTICE,
                user.email,
                {**context, "link": action_link(settings.issuer, CANCEL_PATH, token=cancel)},
                user.locale or caller.locale,
            )
        )
    return email


async def confirm_email_change(services: Services, caller: Caller, token: str) -> User:
    """The link sent to the new address: the address changes, verified; sessions stay."""
    await count_address(services, caller, verify_email_address(services.settings))
    async with unit_of_work(caller, services.events) as work:
        row = await consume_one_time_token(work, token, CHANGE_EMAIL)
        user = await _owner(work, row)
        if row is None or user is None or user.email != row.data.get("old_email"):
            raise invalid_change_link()
        old, new = user.email, str(row.data["new_email"])
        now = utcnow()
        if not await Profiles(work.conn).change_email(user.id, old, new, now, now):
            raise invalid_change_link()
        await retire_one_time_tokens(work, user.id, VERIFY_EMAIL)
        await work.audit(
            "email.changed", user_id=user.id, details={"old_email": old, "new_email": new}
        )
    user.email, user.email_verified_at = new, now
    return user


async def cancel_email_change(services: Services, caller: Caller, token: str) -> User:
    """The link in the notice to the old address: the change does not happen, or is undone."""
    await count_address(services, caller, verify_email_address(services.settings))
    async with unit_of_work(caller, services.events) as work:
        row = await consume_one_time_token(work, token, CANCEL_EMAIL_CHANGE)
        user = await _owner(work, row)
        if row is None or user is None:
            raise invalid_change_link()
        old, new = str(row.data["old_email"]), str(row.data["new_email"])
        await retire_one_time_tokens(work, user.id, CHANGE_EMAIL)
        if user.email == old:
            await work.audit("email.change_cancelled", user_id=user.id, details={"new_email": new})
            return user
        if user.email != new:
            raise invalid_change_link()
        verified_at = row.data.get("old_verified_at")
        restored = utcnow() if verified_at else None
        if not await Profiles(work.conn).change_email(user.id, new, old, utcnow(), restored):
            raise invalid_change_link()
        await revoke_user_sessions(work, user.id, reason="email_change_reverted")
        await work.audit(
            "email.change_reverted", user_id=user.id, details={"old_email": new, "new_email": old}
        )
    user.email, user.email_verified_at = old, restored
    return user


def _acceptable_address(user: User, value: str) -> str:
    try:
        email = new_email(value)
    except IdentifierRefused as exc:
        raise ValidationFailed({"new_email": [exc.reason]}) from exc
    if email == user.email:
        raise ValidationFailed({"new_email": ["is your current address"]})
    return email


async def _owner(work: UnitOfWork, row: OneTimeToken | None) -> User | None:
    if row is None:
        return None
    user = await Users(work.conn).by_id(uuid.UUID(str(row.user_id)))
    return None if user is None or user.deleted_at is not None else user


def _mail_context(caller: Caller, user: User, **extra: Any) -> dict[str, Any]:
    return {
        "name": user.name,
        "email": user.email,
        "time": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "device": describe_device(caller.user_agent),
        "ip": caller.ip,
        **extra,
    }


def _mail(
    services: Services, kind: MailKind, to: str, context: dict[str, Any], locale: str | None
) -> Callable[[], None]:
    def send() -> None:
        services.mailer.send(kind, to, context, locale)

    return send
