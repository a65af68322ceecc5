"""Proving that a user controls their email address: a single-use link, valid for a day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provider.accounts.limits import (
    count_arrival,
    count_verification_mail,
    mail_address,
    verify_email_address,
)
from provider.accounts.notices import account_notice
from provider.accounts.one_time_tokens import (
    VERIFY_EMAIL,
    consume_one_time_token,
    issue_one_time_token,
    retire_one_time_tokens,
)
from provider.cache.ratelimit import Allowance
from provider.context import Caller, Services
from provider.domain_errors import AlreadyVerified, InvalidOneTimeToken
from provider.mail.mailer import MailKind, action_link
from provider.storage.accounts import UserRecords
from provider.storage.models import User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

VERIFY_PATH = "/email/verify"


def invalid_verification_token() -> InvalidOneTimeToken:
    return InvalidOneTimeToken("The verification link is invalid, expired or already used.")


async def mail_verification_link(work: UnitOfWork, services: Services, user: User) -> None:
    """Issue a token bound to the current address in `work`; its link is mailed after commit."""
    settings = services.settings
    token = await issue_one_time_token(
        work, user.id, VERIFY_EMAIL, settings.email_verification_ttl, {"email": user.email}
    )
    work.after_commit(
        account_notice(
            services,
            work.caller,
            user,
            MailKind.VERIFY_EMAIL,
            link=action_link(settings.issuer, VERIFY_PATH, token=token),
            hours=settings.email_verification_ttl // 3600 or 1,
        )
    )


async def resend_verification(services: Services, caller: Caller, user: User) -> Allowance:
    """A new link for a signed-in user: the mail requests of the caller's address, then at most
    `ratelimit_mail_per_account` per mail window for the user; returns the user's room left."""
    await count_arrival(services, caller, mail_address(services.settings), lambda: None)
    allowance = await count_verification_mail(services, str(user.id))
    if user.email_verified_at is not None:
        raise AlreadyVerified()
    async with unit_of_work(caller, services.events) as work:
        await mail_verification_link(work, services, user)
    return allowance


@dataclass(frozen=True, slots=True)
class EmailVerified:
    user: User
    allowance: Allowance


async def verify_email(
    services: Services, caller: Caller, read_token: Callable[[], str]
) -> EmailVerified:
    """Consume the token and mark the address verified; every other pending link dies too.

    The arrival is counted against the per-address window before `read_token` gives the token.
    """
    allowance, token = await count_arrival(
        services, caller, verify_email_address(services.settings), read_token
    )
    async with unit_of_work(caller, services.events) as work:
        row = await consume_one_time_token(work, token, VERIFY_EMAIL)
        if row is None:
            raise invalid_verification_token()
        users = UserRecords(work.conn)
        user = await users.by_id(row.user_id)
        # The link proves control of the address it was sent to, not of a later one.
        if user is None or user.deleted_at is not None or row.data.get("email") != user.email:
            raise invalid_verification_token()
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            await users.update(user.id, email_verified_at=user.email_verified_at)
        await retire_one_time_tokens(work, user.id, VERIFY_EMAIL)
        await work.audit("email.verified", user_id=user.id)
    return EmailVerified(user, allowance)
