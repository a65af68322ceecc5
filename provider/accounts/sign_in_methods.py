"""Which ways of proving who they are an account has: the rule behind "removing the last way
to sign in is refused" (a passkey, a link to an upstream provider) and behind offering a
passkey as the second factor."""

from __future__ import annotations

from provider.accounts.mfa import mfa_enabled
from provider.crypto.passwords import ARGON2_PREFIX
from provider.storage.db import default_connection
from provider.storage.federation import FederatedIdentities
from provider.storage.models import User
from provider.storage.passkeys import Passkeys
from provider.storage.unit_of_work import UnitOfWork


def has_password(user: User) -> bool:
    return user.password_hash.startswith(ARGON2_PREFIX)


async def other_ways_to_sign_in(
    work: UnitOfWork, user: User, *, passkeys: int, providers: int
) -> bool:
    """Whether the account keeps a way to sign in once `passkeys` of its passkeys and
    `providers` of its upstream links are removed."""
    if has_password(user):
        return True
    if await Passkeys(work.conn).count(user.id) > passkeys:
        return True
    return len(await FederatedIdentities(work.conn).of_user(user.id)) > providers


async def has_second_factor(user: User) -> bool:
    """TOTP, or a passkey: either answers the second step of a sign-in."""
    return mfa_enabled(user) or await Passkeys(default_connection()).count(user.id) > 0
