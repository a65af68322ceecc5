"""Finding and creating users."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError

from provider.accounts.email_verification import send_verification_email
from provider.accounts.identity import (
    IdentifierRefused,
    new_email,
    normalize_email,
    normalize_username,
)
from provider.accounts.password_policy import password_problems
from provider.cache.events import EventPublisher
from provider.context import Caller, Services
from provider.crypto.passwords import Passwords
from provider.errors import ApiError
from provider.ops.metrics import AUTH_OPERATIONS
from provider.storage.models import ROLES, User
from provider.storage.unit_of_work import unit_of_work, utcnow


async def find_by_identifier(identifier: str) -> User | None:
    """An email or a username, as typed at login."""
    if "@" in identifier:
        email = normalize_email(identifier)
        return await User.get_or_none(email=email) if email else None
    username = normalize_username(identifier)
    return await User.get_or_none(username=username) if username else None


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
    problems: dict[str, list[str]] = {}
    normalized_email = None
    try:
        normalized_email = new_email(email)
    except IdentifierRefused as exc:
        problems["email"] = [str(exc)]
    normalized_username = None
    if username is not None:
        normalized_username = normalize_username(username)
        if normalized_username is None:
            problems["username"] = [
                "must be 3-64 characters of letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            ]
    if role not in ROLES:
        problems["role"] = [f"must be one of {', '.join(ROLES)}"]
    weaknesses = password_problems(password, normalized_email or email, normalized_username)
    if weaknesses:
        problems["password"] = weaknesses
    if problems:
        raise ApiError(
            422, "validation_failed", "Some fields are not acceptable.", details=problems
        )
    password_hash = await passwords.hash(password)
    try:
        async with unit_of_work(caller, events) as work:
            user = await User.create(
                id=uuid.uuid4(),
                email=normalized_email,
                username=normalized_username,
                name=name.strip(),
                password_hash=password_hash,
                role=role,
                email_verified_at=utcnow() if verified else None,
                using_db=work.conn,
            )
            await work.audit("user.registered", user_id=user.id)
    except IntegrityError as exc:
        raise await _conflict(normalized_email, normalized_username) from exc
    return user


async def sign_up(
    services: Services,
    caller: Caller,
    *,
    email: str,
    password: str,
    name: str,
    username: str | None = None,
) -> User:
    """Self-service registration (the JSON API and the hosted page): the account, then the mail."""
    user = await register_user(
        services.passwords,
        services.events,
        caller,
        email=email,
        password=password,
        name=name,
        username=username,
    )
    await send_verification_email(services, caller, user)
    AUTH_OPERATIONS.labels(operation="register", outcome="success").inc()
    return user


async def _conflict(email: str | None, username: str | None) -> ApiError:
    if await User.exists(email=email):
        return ApiError(409, "email_taken", "An account with this email already exists.")
    if username and await User.exists(username=username):
        return ApiError(409, "username_taken", "This username is taken.")
    return ApiError(409, "conflict", "The account conflicts with an existing one.")


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
