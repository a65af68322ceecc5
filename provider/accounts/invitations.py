"""Accounts an administrator creates for someone else, and the first administrator.

Nobody types a password for another person: the account starts without a usable password and
its owner chooses one through a single-use link, the password-reset token and page. Following
the link also proves the address, as a reset does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from provider.accounts.administration import UNUSABLE_PASSWORD
from provider.accounts.identity import IdentifierRefused, new_email
from provider.accounts.notices import account_notice
from provider.accounts.one_time_tokens import (
    RESET_PASSWORD,
    issue_one_time_token,
    retire_one_time_tokens,
)
from provider.accounts.password_reset import RESET_PATH
from provider.cache.events import EventPublisher
from provider.config import Settings
from provider.context import Caller, Services
from provider.domain_errors import EmailTaken, Phrase, ValidationFailed
from provider.mail.mailer import MailKind, action_link
from provider.storage.accounts import DuplicateAccount, UserRecords
from provider.storage.models import ROLES, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work

INVITATION_DAYS = 7
INVITATION_TTL = INVITATION_DAYS * 86_400

BootstrapOutcome = Literal["created", "pending", "exists", "not_admin"]


@dataclass(frozen=True, slots=True)
class Invitation:
    user: User
    link: str


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What starting with PROVIDER_BOOTSTRAP_ADMIN_EMAIL did.

    created: a new administrator, `link` sets its password; pending: the administrator has not
    chosen a password yet, `link` is a new one (earlier links no longer work); exists: the
    administrator has a password, nothing to do; not_admin: the address belongs to an account
    that is not an administrator, which a setting never promotes.
    """

    outcome: BootstrapOutcome
    email: str
    link: str | None = None


def _checked_email(email: str) -> str:
    try:
        return new_email(email)
    except IdentifierRefused as exc:
        raise ValidationFailed({"email": [exc.reason]}) from exc


async def _new_account(work: UnitOfWork, email: str, name: str, role: str) -> User:
    """An account without a usable password; EmailTaken when the address has one already."""
    records = UserRecords(work.conn)
    if await records.email_taken(email):
        raise EmailTaken(email, None, name)
    try:
        return await records.insert(
            email=email, name=name, role=role, password_hash=UNUSABLE_PASSWORD
        )
    except DuplicateAccount as exc:
        raise EmailTaken(email, None, name) from exc


async def _setup_link(work: UnitOfWork, settings: Settings, user: User) -> str:
    """A fresh single-use link to choose the password; earlier ones stop working."""
    await retire_one_time_tokens(work, user.id, RESET_PASSWORD)
    token = await issue_one_time_token(
        work, user.id, RESET_PASSWORD, INVITATION_TTL, {"email": user.email}
    )
    return action_link(settings.issuer, RESET_PATH, token=token)


async def invite_user(
    services: Services, caller: Caller, admin: User, *, email: str, name: str, role: str
) -> Invitation:
    """Create the account and mail its owner the link to choose a password."""
    normalized = _checked_email(email)
    if role not in ROLES:
        raise ValidationFailed(
            {"role": [Phrase("must be one of %(choices)s", choices=", ".join(ROLES))]}
        )
    async with unit_of_work(caller, services.events) as work:
        user = await _new_account(work, normalized, name.strip(), role)
        link = await _setup_link(work, services.settings, user)
        await work.audit(
            "admin.user_invited",
            user_id=user.id,
            details={"admin_id": str(admin.id), "role": role},
        )
        work.after_commit(
            account_notice(
                services, caller, user, MailKind.INVITATION, link=link, days=INVITATION_DAYS
            )
        )
    return Invitation(user, link)


async def bootstrap_admin(
    settings: Settings, events: EventPublisher, caller: Caller, email: str
) -> Bootstrap:
    """The first administrator from the environment; safe to run at every start."""
    normalized = _checked_email(email)
    async with unit_of_work(caller, events) as work:
        user = await UserRecords(work.conn).by_email(normalized)
        if user is not None and user.role != "admin":
            return Bootstrap("not_admin", normalized)
        if user is not None and user.password_hash != UNUSABLE_PASSWORD:
            return Bootstrap("exists", normalized)
        outcome: BootstrapOutcome = "pending"
        if user is None:
            outcome = "created"
            user = await _new_account(work, normalized, "", "admin")
        link = await _setup_link(work, settings, user)
        await work.audit(
            "admin.bootstrapped", user_id=user.id, details={"outcome": outcome, "via": "env"}
        )
    return Bootstrap(outcome, normalized, link)
