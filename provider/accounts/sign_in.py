"""The `sign_in` use case: a password sign-in, the one path of the JSON API and the hosted pages.

Both adapters call it, so they share its limits (the per-address and per-account windows of
provider.accounts.limits), the lockout count and the audit. The per-address limit is counted when
a request arrives, before its input is read, so the adapter hands over a `read` function (that
parses the body, and may refuse it) rather than the credentials:

    outcome = await sign_in(services, caller, lambda: credentials_of(request), start=...)

The outcome says what comes next: `Authenticated`, with the session started as the adapter's
`start` says (provider.accounts.login.finish_login), or `SecondFactorRequired` with the challenge
to answer. Both carry the room left in the per-address window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provider.accounts.authentication import authenticate_password
from provider.accounts.limits import count_arrival, count_sign_in_account, sign_in_address
from provider.accounts.login import AMR_PASSWORD, CompletedLogin, SessionStart, finish_login
from provider.accounts.mfa import mfa_enabled
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
    services: Services, caller: Caller, read: Callable[[], Credentials], *, start: SessionStart
) -> Authenticated | SecondFactorRequired:
    """Count the arrival and the account's window, check the password under the lockout, then
    start the MFA step or the session."""
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
        login = await finish_login(work, services, user, amr=list(AMR_PASSWORD), start=start)
    return Authenticated(login, allowance)
