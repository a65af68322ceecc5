"""Recent re-authentication: actions that add a second factor need a fresh proof of identity.

A stolen session (or token) alone must not be able to enrol its own authenticator and lock the
owner out. The session records when the user last proved a password or a second factor
(`auth_time`); enrolling TOTP needs that to be within `PROVIDER_REAUTHENTICATION_MAX_AGE`
seconds. `reauthenticate` renews it for a signed-in user with the password, and the second
factor when one is on, under the same rate limits and lockout as a login; or with one of the
user's passkeys (`reauthenticate_with_passkey`). Disabling TOTP and regenerating backup codes ask
for the password and a code themselves (provider.accounts.mfa).
"""

from __future__ import annotations

from provider.accounts.limits import count_sign_in_account, sign_in_address
from provider.accounts.lockout import Lockout
from provider.accounts.login import (
    ACR_MFA,
    ACR_PASSWORD,
    AMR_PASSWORD,
    AMR_PASSWORD_AND_OTP,
    CompletedLogin,
    authenticate_again,
)
from provider.accounts.mfa import accept_second_factor, mfa_enabled
from provider.accounts.passkey_authentication import PasskeyAnswer, prove_passkey, record_use
from provider.cache.ratelimit import enforce
from provider.config import Settings
from provider.context import Caller, Services
from provider.domain_errors import IncorrectCode, IncorrectPassword, InvalidRequest
from provider.sessions.service import issue_refresh_token
from provider.storage.models import Session, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work


async def reauthenticate(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    password: str,
    code: str | None,
    client_id: str,
) -> CompletedLogin:
    """Prove the signed-in user again; the session's auth_time becomes now and a new refresh
    token of `client_id` is issued for it. Wrong answers count toward the account lockout."""
    settings = services.settings
    # The same counters as a login: re-authenticating is no way around its limits.
    await enforce(services.cache, sign_in_address(settings), caller.ip)
    await count_sign_in_account(services, user.email)
    two_factor = mfa_enabled(user)
    if two_factor and not code:
        raise InvalidRequest("Two-factor authentication is on: send a code as well.")
    lockout = Lockout(services)
    subject = str(user.id)
    await lockout.ensure_not_locked(subject, user)
    if not await services.passwords.verify(user.password_hash, password):
        await _record_failure(caller, lockout, user, session, "invalid_password")
        raise IncorrectPassword()
    amr, acr = list(AMR_PASSWORD), ACR_PASSWORD
    if two_factor:
        amr, acr = list(AMR_PASSWORD_AND_OTP), ACR_MFA
    completed = None
    # Counted before the code is evaluated: codes sent at once cannot outrun the lockout.
    attempt = await lockout.claim_attempt(subject) if two_factor else 0
    async with unit_of_work(caller, services.events) as work:
        method = await accept_second_factor(work, settings, user, code or "") if two_factor else ""
        if method is None:
            await work.audit(
                "user.reauthentication_failed",
                outcome="failure",
                user_id=user.id,
                session_id=session.id,
                details={"reason": "invalid_code"},
            )
            await lockout.record_claimed_failure(work, subject, user, attempt)
        else:
            completed = await _proven_again(work, settings, user, session, amr, acr, client_id)
    if completed is None:
        raise IncorrectCode()
    await lockout.reset(subject)
    return completed


async def reauthenticate_with_passkey(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    answer: PasskeyAnswer,
    *,
    client_id: str,
) -> CompletedLogin:
    """Prove the signed-in user again with one of their passkeys (a ceremony of
    POST /v1/auth/passkeys/authentication/options); as `reauthenticate` otherwise. With TOTP on,
    the passkey must have verified the user: one factor does not renew a two-factor session."""
    settings = services.settings
    await enforce(services.cache, sign_in_address(settings), caller.ip)
    await count_sign_in_account(services, user.email)
    proven = await prove_passkey(services, caller, answer, expected_user=user)
    amr = proven.amr()
    if "mfa" not in amr and mfa_enabled(user):
        raise InvalidRequest("Two-factor authentication is on: use a passkey that verifies you.")
    async with unit_of_work(caller, services.events) as work:
        await record_use(work, proven)
        acr = ACR_MFA if "mfa" in amr else ACR_PASSWORD
        completed = await _proven_again(work, settings, user, session, amr, acr, client_id)
    if "mfa" in amr:
        await Lockout(services).reset(str(user.id))
    return completed


async def _proven_again(
    work: UnitOfWork,
    settings: Settings,
    user: User,
    session: Session,
    amr: list[str],
    acr: str,
    client_id: str,
) -> CompletedLogin:
    """Renew the session's proof (auth_time, amr, acr), issue its new refresh token and audit."""
    await authenticate_again(work, session, amr, acr)
    issued = await issue_refresh_token(work, settings, session, client_id=client_id, scope="")
    await work.audit(
        "user.reauthenticated",
        user_id=user.id,
        session_id=session.id,
        client_id=client_id,
        details={"amr": amr},
    )
    return CompletedLogin(user, session, issued.token)


async def _record_failure(
    caller: Caller,
    lockout: Lockout,
    user: User,
    session: Session,
    reason: str,
) -> None:
    await lockout.record_refusal(
        caller,
        "user.reauthentication_failed",
        str(user.id),
        user,
        details={"reason": reason},
        session_id=session.id,
    )
