"""The `sign_in` use case: a password sign-in, the one path of the JSON API and the hosted pages.

Both adapters call it, so they share its limits (the per-address and per-account windows of
provider.accounts.limits), the lockout count and the audit. It has two steps because the
per-address limit is counted when a request arrives, before its body is read:

    admitted = await limits.admit_sign_in(services, caller)   # may raise RateLimited
    ...read the identifier and password...
    outcome = await sign_in(admitted, identifier, password)

The outcome says what comes next: `Authenticated` (the adapter starts the session its way, via
provider.accounts.login.finish_login) or `SecondFactorRequired` with the challenge to answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from provider.accounts.authentication import authenticate_password
from provider.accounts.limits import Admitted, count_sign_in_account
from provider.accounts.login import start_mfa_challenge
from provider.accounts.mfa import mfa_enabled
from provider.storage.models import User


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The password was right and no second factor is on."""

    user: User


@dataclass(frozen=True, slots=True)
class SecondFactorRequired:
    """The password was right; `challenge` stands for it until a code is given."""

    user: User
    challenge: str


async def sign_in(
    admitted: Admitted, identifier: str, password: str
) -> Authenticated | SecondFactorRequired:
    """Count the account's window, check the password under the lockout, start the MFA step."""
    services, caller = admitted.services, admitted.caller
    await count_sign_in_account(services, identifier)
    user = await authenticate_password(services, caller, identifier, password)
    if mfa_enabled(user):
        # The password alone signs nobody in: the session waits for the second factor.
        return SecondFactorRequired(user, await start_mfa_challenge(services, caller, user))
    return Authenticated(user)
