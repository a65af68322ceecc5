"""Finding and creating users."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from provider.accounts.email_verification import mail_verification_link
from provider.accounts.identity import (
    IdentifierRefused,
    new_email,
    normalize_email,
    normalize_username,
)
from provider.accounts.limits import count_arrival, register_address, register_notice_address
from provider.accounts.notices import account_notice
from provider.accounts.password_policy import password_problems
from provider.cache.events import EventPublisher
from provider.cache.ratelimit import Allowance, enforce
from provider.context import Caller, Services
from provider.crypto.passwords import Passwords
from provider.crypto.tokens import keyed_hash
from provider.domain_errors import (
    Conflict,
    EmailTaken,
    Phrase,
    RateLimited,
    UsernameTaken,
    ValidationFailed,
)
from provider.mail.mailer import MailKind
from provider.ops.metrics import AUTH_OPERATIONS
from provider.storage.accounts import DuplicateAccount, UserRecords
from provider.storage.db import default_connection
from provider.storage.models import ROLES, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow


async def find_by_identifier(identifier: str) -> User | None:
    """An email or a username, as typed at login."""
    users = UserRecords(default_connection())
    if "@" in identifier:
        email = normalize_email(identifier)
        return await users.by_email(email) if email else None
    username = normalize_username(identifier)
    return await users.by_username(username) if username else None


@dataclass(frozen=True, slots=True)
class _NewAccount:
    """A new account's fields, checked, with the password already hashed."""

    email: str
    username: str | None
    name: str
    password_hash: str
    role: str
    verified: bool


async def _new_account(
    passwords: Passwords,
    *,
    email: str,
    password: str,
    name: str,
    username: str | None,
    role: str,
    verified: bool,
) -> _NewAccount:
    """Validate every field (all problems at once) and hash the password off the loop."""
    problems: dict[str, list[str]] = {}
    normalized_email = None
    try:
        normalized_email = new_email(email)
    except IdentifierRefused as exc:
        problems["email"] = [exc.reason]
    normalized_username = None
    if username is not None:
        normalized_username = normalize_username(username)
        if normalized_username is None:
            problems["username"] = [
                "must be 3-64 characters of letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            ]
    if role not in ROLES:
        problems["role"] = [Phrase("must be one of %(choices)s", choices=", ".join(ROLES))]
    weaknesses = password_problems(password, normalized_email or email, normalized_username)
    if weaknesses:
        problems["password"] = weaknesses
    if problems or normalized_email is None:
        raise ValidationFailed(problems)
    password_hash = await passwords.hash(password)
    return _NewAccount(
        normalized_email, normalized_username, name.strip(), password_hash, role, verified
    )


async def _insert(work: UnitOfWork, account: _NewAccount) -> User:
    """The account's row and its `user.registered` audit; DuplicateAccount when taken."""
    user = await UserRecords(work.conn).insert(
        email=account.email,
        username=account.username,
        name=account.name,
        password_hash=account.password_hash,
        role=account.role,
        email_verified_at=utcnow() if account.verified else None,
    )
    await work.audit("user.registered", user_id=user.id)
    return user


async def register_user(
    passwords: Passwords,
    events: EventPublisher,
    caller: Caller,
    *,
    email: str,
    password: str,
    name: str,
    username: str | None = None,
    role: str = "user",
    verified: bool = False,
) -> User:
    """Validate, hash off the loop, insert, and write `user.registered` in one transaction."""
    account = await _new_account(
        passwords,
        email=email,
        password=password,
        name=name,
        username=username,
        role=role,
        verified=verified,
    )
    try:
        async with unit_of_work(caller, events) as work:
            return await _insert(work, account)
    except DuplicateAccount as exc:
        raise await _conflict(account) from exc


@dataclass(frozen=True, slots=True)
class Registration:
    """What a visitor fills in to register."""

    email: str
    password: str
    name: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    """The new user (or its stand-in) and the room left in the per-address window."""

    user: User
    allowance: Allowance


async def sign_up(
    services: Services, caller: Caller, read: Callable[[], Registration]
) -> Registered:
    """Self-service registration (the JSON API and the hosted page): the account, then the mail.

    The arrival is counted against the per-address window before `read` gives the form.
    Unless PROVIDER_REGISTRATION_REVEALS_EXISTING is set, an address that has an account already
    gets the answer of a new one (OWASP Authentication Cheat Sheet, account enumeration): the
    password was hashed all the same, nothing is created, and the owner is told by mail. The
    returned user is then a stand-in that is not stored.
    """
    allowance, form = await count_arrival(
        services, caller, register_address(services.settings), read
    )
    account = await _new_account(
        services.passwords,
        email=form.email,
        password=form.password,
        name=form.name,
        username=form.username,
        role="user",
        verified=False,
    )
    try:
        async with unit_of_work(caller, services.events) as work:
            user = await _insert(work, account)
            await mail_verification_link(work, services, user)
    except DuplicateAccount as exc:
        conflict = await _conflict(account)
        if not isinstance(conflict, EmailTaken) or services.settings.registration_reveals_existing:
            raise conflict from exc
        AUTH_OPERATIONS.labels(operation="register", outcome="existing").inc()
        return Registered(await _answer_existing(services, caller, conflict), allowance)
    AUTH_OPERATIONS.labels(operation="register", outcome="success").inc()
    return Registered(user, allowance)


async def _answer_existing(services: Services, caller: Caller, taken: EmailTaken) -> User:
    """Audit the attempt, mail the owner (rate-limited per address), and stand in a new user."""
    owner = await UserRecords(default_connection()).live_by_email(taken.email)
    notify = owner is not None and await _notice_allowed(services, taken.email)
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            "user.register_existing",
            outcome="failure",
            user_id=owner.id if owner is not None else None,
            details={"notified": notify},
        )
        if owner is not None and notify:
            work.after_commit(
                account_notice(services, caller, owner, MailKind.REGISTRATION_ATTEMPT)
            )
    return User(
        id=uuid.uuid4(),
        email=taken.email,
        username=taken.username,
        name=taken.name,
        role="user",
        email_verified_at=None,
        created_at=utcnow(),
    )


async def _notice_allowed(services: Services, email: str) -> bool:
    """At most `ratelimit_mail_per_account` notices per address and mail window, then silently
    none: the requester is never told."""
    settings = services.settings
    try:
        await enforce(
            services.cache, register_notice_address(settings), keyed_hash(settings.secret, email)
        )
    except RateLimited:
        return False
    return True


async def _conflict(account: _NewAccount) -> Conflict:
    # The username first: it is a public handle, and answering it first says nothing about
    # whether the email has an account.
    users = UserRecords(default_connection())
    if account.username and await users.username_taken(account.username):
        return UsernameTaken()
    if await users.email_taken(account.email):
        return EmailTaken(account.email, account.username, account.name)
    return Conflict("The account conflicts with an existing one.")


def public_user(user: User) -> dict[str, object]:
    return {
        "id": str(user.id),
        "email": user.email,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "email_verified": user.email_verified_at is not None,
        "created_at": user.created_at.isoformat(),
    }
