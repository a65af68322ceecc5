"""Every rate limit of an account action, declared once, and the counting of each.

The JSON API and the hosted pages reach an action through the same use case, so both count
against the same window under the same name (`rl:<scope>:<key>` in the cache). A limit that
guards the arrival of a request (the per-address ones) is counted before its body is read: a body
that does not even parse spends the budget all the same. The returned `Allowance` is what the
adapters turn into `X-RateLimit-*` headers; beyond a limit `enforce` raises `RateLimited`.
Each use case of provider.accounts counts its own limits; the adapters only map `RateLimited`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from provider.accounts.identity import identifier_key
from provider.cache.ratelimit import Allowance, Limit, enforce
from provider.config import Settings
from provider.context import Caller, Services
from provider.crypto.tokens import keyed_hash


def sign_in_address(settings: Settings) -> Limit:
    """Password sign-in (and re-authentication) per client address."""
    return Limit("login_ip", settings.ratelimit_login_per_ip, settings.ratelimit_window)


def sign_in_account(settings: Settings) -> Limit:
    """Password sign-in (and re-authentication) per account, by every spelling of it."""
    return Limit("login_account", settings.ratelimit_login_per_account, settings.ratelimit_window)


def second_factor_address(settings: Settings) -> Limit:
    return Limit("mfa_ip", settings.ratelimit_login_per_ip, settings.ratelimit_window)


def passkey_options_address(settings: Settings) -> Limit:
    """Passkey ceremonies started before sign-in (each holds a challenge in the cache)."""
    return Limit("passkey_options_ip", settings.ratelimit_login_per_ip, settings.ratelimit_window)


def register_address(settings: Settings) -> Limit:
    return Limit("register_ip", settings.ratelimit_register_per_ip, settings.ratelimit_window)


def register_notice_address(settings: Settings) -> Limit:
    """Mails telling an owner that someone tried to register their address again."""
    return Limit(
        "register_notice_address",
        settings.ratelimit_mail_per_account,
        settings.ratelimit_mail_window,
    )


def verify_email_address(settings: Settings) -> Limit:
    return Limit("email_verify_ip", settings.ratelimit_login_per_ip, settings.ratelimit_window)


def mail_address(settings: Settings) -> Limit:
    """Every mail a visitor can ask for (verification links, reset links), per client address."""
    return Limit("mail_ip", settings.ratelimit_mail_per_ip, settings.ratelimit_mail_window)


def verification_mail_user(settings: Settings) -> Limit:
    return Limit(
        "verify_mail_user", settings.ratelimit_mail_per_account, settings.ratelimit_mail_window
    )


def reset_mail_recipient(settings: Settings) -> Limit:
    return Limit(
        "reset_mail_address", settings.ratelimit_mail_per_account, settings.ratelimit_mail_window
    )


def reset_password_address(settings: Settings) -> Limit:
    return Limit("password_reset_ip", settings.ratelimit_login_per_ip, settings.ratelimit_window)


def refresh_address(settings: Settings) -> Limit:
    return Limit("refresh_ip", settings.ratelimit_refresh_per_ip, settings.ratelimit_window)


# --- counting, per action ---------------------------------------------------------------------

T = TypeVar("T")


async def count_arrival(
    services: Services, caller: Caller, limit: Limit, read: Callable[[], T]
) -> tuple[Allowance, T]:
    """Count a request against its per-address `limit`, then `read` its input.

    The use cases take their input as `read` rather than as values so that the arrival is
    counted first: an input that `read` refuses (it may raise) has spent the budget all the
    same. Returns the room left in the window, for the adapters' `X-RateLimit-*` headers.
    """
    allowance = await enforce(services.cache, limit, caller.ip)
    return allowance, read()


async def count_address(services: Services, caller: Caller, limit: Limit) -> Allowance:
    """Count a request against its per-address `limit`, for a use case with nothing to read."""
    return await enforce(services.cache, limit, caller.ip)


@dataclass(frozen=True, slots=True)
class Admitted:
    """A refresh request, counted against the per-address window on arrival."""

    services: Services
    caller: Caller
    allowance: Allowance


async def admit_refresh(services: Services, caller: Caller) -> Admitted:
    limit = refresh_address(services.settings)
    return Admitted(services, caller, await enforce(services.cache, limit, caller.ip))


async def count_sign_in_account(services: Services, identifier: str) -> Allowance:
    """Every spelling of an identifier that reaches one account counts against one window."""
    settings = services.settings
    key = keyed_hash(settings.secret, identifier_key(identifier))
    return await enforce(services.cache, sign_in_account(settings), key)


async def count_verification_mail(services: Services, user_id: str) -> Allowance:
    return await enforce(services.cache, verification_mail_user(services.settings), user_id)


async def count_reset_mail(services: Services, email: str) -> Allowance:
    settings = services.settings
    key = keyed_hash(settings.secret, unicodedata.normalize("NFKC", email).strip().lower())
    return await enforce(services.cache, reset_mail_recipient(settings), key)


def any_request_address(settings: Settings) -> Limit:
    """Every request of a client address, whatever the route (off when the limit is 0)."""
    return Limit("any_ip", settings.ratelimit_global_per_ip, settings.ratelimit_window)


async def admit_any_request(services: Services, caller: Caller) -> None:
    """Count the request against the global per-address window, when it is on."""
    if services.settings.ratelimit_global_per_ip:
        await enforce(services.cache, any_request_address(services.settings), caller.ip)


def client_registration_address(settings: Settings) -> Limit:
    """Dynamic client registrations (RFC 7591) per client address and hour."""
    return Limit("client_register_ip", settings.ratelimit_registration_per_ip, 3600)
