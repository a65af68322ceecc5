"""The `sign_in` use case: a password sign-in, the one path of the JSON API and the hosted pages.

Both adapters call it, so they share its limits (the per-address and per-account windows of
provider.accounts.limits), the lockout count and the audit. The per-address limit is counted when
a request arrives, before its input is read, so the adapter hands over a `read` function (that
parses the body, and may refuse it) rather than the credentials:

    outcome = await sign_in(services, caller, lambda: credentials_of(request), start=...)

The outcome says what comes next: `Authenticated`, with the session started as the adapter's
`start` says (provider.accounts.login.finish_login), or `SecondFactorRequired` with the challenge
to answer. Both carry the room left in the per-address window.

`sign_in_with_passkey` is the same sign-in with a passkey's assertion in place of the password:
the same windows, lockout, audit and `finish_login`. A passkey with user verification is two
factors in one (amr hwk|swk, user, mfa; the MFA acr); without it, an account with TOTP still
answers the second step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provider.accounts.authentication import authenticate_password
from provider.accounts.limits import count_arrival, count_sign_in_account, sign_in_address
from provider.accounts.lockout import Lockout
from provider.accounts.login import AMR_PASSWORD, CompletedLogin, SessionStart, finish_login
from provider.accounts.mfa import mfa_enabled
from provider.accounts.passkey_authentication import PasskeyAnswer, prove_passkey, record_use
from provider.accounts.second_factor import start_mfa_challenge
from provider.cache.ratelimit import Allowance
from provider.context import Caller, Services
from provider.storage.models import User
from provider.storage.unit_of_work import unit_of_work


@dataclass(frozen=True, slots=True)
class Credentials:
    identifier: str
    password: str


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The password was right, no second factor is on, and the session has started."""

    login: CompletedLogin
    allowance: Allowance


@dataclass(frozen=True, slots=True)
class SecondFactorRequired:
    """The password was right; `challenge` stands for it until a code is given."""

    user: User
    challenge: str
    allowance: Allowance


async def sign_in(
    services: Services,
    caller: Caller,
    read: Callable[[], Credentials],
    *,
    start: SessionStart,
    also_proved: tuple[str, ...] = (),
) -> Authenticated | SecondFactorRequired:
    """Count the arrival and the account's window, check the password under the lockout, then
    start the MFA step or the session.

    `also_proved` are methods proved beside the password in the same sign-in (an upstream
    provider's `fed` when a link is confirmed with the password), recorded in the session's amr.
    """
    allowance, credentials = await count_arrival(
        services, caller, sign_in_address(services.settings), read
    )
    await count_sign_in_account(services, credentials.identifier)
    user = await authenticate_password(
        services, caller, credentials.identifier, credentials.password
    )
    if mfa_enabled(user):
        # The password alone signs nobody in: the session waits for the second factor.
        challenge = await start_mfa_challenge(services, caller, user)
        return SecondFactorRequired(user, challenge, allowance)
    async with unit_of_work(caller, services.events) as work:
        login = await finish_login(
            work, services, user, amr=[*AMR_PASSWORD, *also_proved], start=start
        )
    return Authenticated(login, allowance)


async def sign_in_with_passkey(
    services: Services,
    caller: Caller,
    read: Callable[[], PasskeyAnswer],
    *,
    start: SessionStart,
) -> Authenticated | SecondFactorRequired:
    """Count the arrival, prove the passkey (its ceremony spent, the lockout checked), count the
    account's window, then start the MFA step or the session as a password sign-in does."""
    allowance, answer = await count_arrival(
        services, caller, sign_in_address(services.settings), read
    )
    proven = await prove_passkey(services, caller, answer)
    user = proven.user
    await count_sign_in_account(services, user.email)
    amr = proven.amr()
    if "mfa" not in amr and mfa_enabled(user):
        challenge = await start_mfa_challenge(services, caller, user, first=tuple(amr))
        return SecondFactorRequired(user, challenge, allowance)
    async with unit_of_work(caller, services.events) as work:
        await record_use(work, proven)
        login = await finish_login(work, services, user, amr=amr, start=start)
    if "mfa" in amr:
        # Two factors proven: the failures counted so far are cleared, as after a second step.
        await Lockout(services).reset(str(user.id))
    return Authenticated(login, allowance)
