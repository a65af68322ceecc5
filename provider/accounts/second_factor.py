"""The second step of a sign-in: one use case for the JSON API and the hosted code page.

With TOTP on, a correct password is only the first step: `start_mfa_challenge` hands out a
short-lived single-use token bound to the caller (IP and User-Agent), and
`complete_second_factor` takes it with a TOTP or backup code. The hosted page also reaches it for
a step-up of a password-only browser session (the session is kept, see `finish_login`).

Every attempt is counted before its code is evaluated, atomically in the cache, twice: against
the challenge (at most MFA_CHALLENGE_ATTEMPTS, then the challenge is dead) and against the
account's lockout, whichever adapter the attempts arrive through. However many requests arrive at
once, no more codes are evaluated than that. Wrong codes count toward the same lockout as wrong
passwords; the challenge token is consumed only on success, in the same transaction as the code
and the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provider.accounts.limits import count_address, count_arrival, second_factor_address
from provider.accounts.lockout import Lockout
from provider.accounts.login import (
    AMR_PASSWORD,
    CompletedLogin,
    SessionStart,
    finish_login,
)
from provider.accounts.mfa import METHODS, accept_second_factor, mfa_enabled
from provider.accounts.one_time_tokens import (
    MFA_LOGIN,
    consume_one_time_token,
    find_one_time_token,
    issue_one_time_token,
)
from provider.accounts.passkey_authentication import (
    PasskeyAnswer,
    ProvenPasskey,
    prove_passkey,
    record_use,
)
from provider.accounts.passkey_ceremony import Started, start_authentication
from provider.accounts.sign_in_methods import has_second_factor
from provider.cache.ratelimit import Allowance
from provider.context import Caller, Services
from provider.crypto.tokens import token_hash
from provider.domain_errors import (
    AccountLocked,
    DomainError,
    InvalidMfaToken,
    InvalidRequest,
    InvalidSecondFactor,
)
from provider.ops.metrics import AUTH_OPERATIONS
from provider.storage.accounts import UserRecords
from provider.storage.db import default_connection
from provider.storage.models import User
from provider.storage.passkeys import Passkeys
from provider.storage.unit_of_work import UnitOfWork, unit_of_work

# Codes evaluated per challenge, right or wrong; the next attempt finds the challenge dead.
MFA_CHALLENGE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class SecondFactorAnswer:
    """The challenge of a pending sign-in and the code given for it, or a passkey's assertion."""

    mfa_token: str
    code: str = ""
    passkey: PasskeyAnswer | None = None


@dataclass(frozen=True, slots=True)
class SecondFactorAccepted:
    """The sign-in is complete; `method` is "totp", "backup_code" or "passkey"."""

    login: CompletedLogin
    method: str
    allowance: Allowance


async def start_mfa_challenge(
    services: Services,
    caller: Caller,
    user: User,
    *,
    idp: str | None = None,
    first: tuple[str, ...] = (),
) -> str:
    """The token that stands for "password verified" until the second factor is given.

    With `idp`, the first factor was an upstream provider's sign-in instead of the password:
    the login that follows the code records `fed` (and the idp) in place of `pwd`. `first`
    names another first factor the same way (a passkey without user verification).
    """
    data: dict[str, object] = {"ip": caller.ip, "user_agent": caller.user_agent[:512]}
    if idp:
        data["idp"] = idp
    if first:
        data["first"] = list(first)
    async with unit_of_work(caller, services.events) as work:
        token = await issue_one_time_token(
            work, user.id, MFA_LOGIN, services.settings.mfa_token_ttl, data
        )
        await work.audit("mfa.challenged", user_id=user.id)
    AUTH_OPERATIONS.labels(operation="login", outcome="mfa_required").inc()
    return token


async def complete_second_factor(
    services: Services,
    caller: Caller,
    read: Callable[[], SecondFactorAnswer],
    *,
    start: SessionStart,
) -> SecondFactorAccepted:
    """Check the second factor of a challenged sign-in and finish it (amr pwd+otp+mfa).

    The arrival is counted against the per-address window before `read` gives the answer.
    The session starts as `start` says: the JSON API gets a refresh token, the hosted page a
    session cookie (keeping its current session on a step-up).
    """
    allowance, answer = await count_arrival(
        services, caller, second_factor_address(services.settings), read
    )
    user = await _challenged_user(caller, answer.mfa_token)
    lockout = Lockout(services)
    subject = str(user.id)
    try:
        await lockout.ensure_not_locked(subject, user)
        exhausted = not await _within_challenge_attempts(services, answer.mfa_token)
        attempt = 0 if exhausted else await lockout.claim_attempt(subject)
    except AccountLocked:
        AUTH_OPERATIONS.labels(operation="mfa", outcome="locked").inc()
        raise
    proven, refusal = None, "invalid_mfa_code"
    if answer.passkey is not None and not exhausted:
        proven, refusal = await _passkey_of(services, caller, user, answer.passkey)
    accepted = None
    async with unit_of_work(caller, services.events) as work:
        if exhausted:
            await consume_one_time_token(work, answer.mfa_token, MFA_LOGIN)
        else:
            if proven is not None:
                await record_use(work, proven)
                method: str | None = "passkey"
            elif answer.passkey is None:
                method = await accept_second_factor(work, services.settings, user, answer.code)
            else:
                method = None
            if method is None:
                await _record_wrong_code(work, lockout, user, attempt, refusal)
            else:
                login = await _finish(work, services, user, answer.mfa_token, method, start, proven)
                accepted = SecondFactorAccepted(login, method, allowance)
    if exhausted:
        AUTH_OPERATIONS.labels(operation="mfa", outcome="challenge_exhausted").inc()
        raise InvalidMfaToken()
    if accepted is None:
        AUTH_OPERATIONS.labels(operation="mfa", outcome="invalid_code").inc()
        raise InvalidSecondFactor()
    # Only now: a correct password alone must not clear the failures of wrong codes.
    await lockout.reset(subject)
    return accepted


async def begin_passkey_second_step(
    services: Services, caller: Caller, mfa_token: str | None
) -> Started:
    """Options for the challenged user's passkeys, to answer the second step with one."""
    await count_address(services, caller, second_factor_address(services.settings))
    user = await _challenged_user(caller, mfa_token or "")
    passkeys = await Passkeys(default_connection()).of_user(user.id)
    if not passkeys:
        raise InvalidRequest("This account has no passkey; enter a code instead.")
    return await start_authentication(services, caller, allowed=passkeys)


async def answer_methods(user: User) -> list[str]:
    """How `user` can answer the second step: "totp" and "backup_code", and "passkey"."""
    has_passkey = await Passkeys(default_connection()).count(user.id) > 0
    return [*(METHODS if mfa_enabled(user) else ()), *(["passkey"] if has_passkey else [])]


async def challenged_methods(caller: Caller, mfa_token: str | None) -> list[str]:
    """`answer_methods` of the challenged user; none when the challenge is not live for this
    caller."""
    try:
        user = await _challenged_user(caller, mfa_token or "")
    except InvalidMfaToken:
        return []
    return await answer_methods(user)


async def _challenged_user(caller: Caller, mfa_token: str) -> User:
    """The user of a live challenge made for this caller, with the second factor still on."""
    challenge = await find_one_time_token(mfa_token, MFA_LOGIN)
    if (
        challenge is None
        or challenge.data.get("ip") != caller.ip
        or challenge.data.get("user_agent") != caller.user_agent[:512]
    ):
        raise InvalidMfaToken()
    user = await UserRecords(default_connection()).by_id(challenge.user_id)
    if user is None or user.deleted_at is not None or not await has_second_factor(user):
        raise InvalidMfaToken()
    return user


async def _passkey_of(
    services: Services, caller: Caller, user: User, answer: PasskeyAnswer
) -> tuple[ProvenPasskey | None, str]:
    """The challenged user's passkey proven by `answer`; or None and why not, recorded as a
    wrong answer to this challenge (one audit row, one count toward the lockout)."""
    try:
        return await prove_passkey(
            services, caller, answer, expected_user=user, audit_refusal=False
        ), ""
    except DomainError as exc:
        return None, f"passkey:{exc.code}"


async def _within_challenge_attempts(services: Services, mfa_token: str) -> bool:
    """Count this attempt against the challenge; False once past the limit."""
    result = await services.cache.hit_window(
        f"mfa:attempts:{token_hash(mfa_token)}",
        MFA_CHALLENGE_ATTEMPTS,
        services.settings.mfa_token_ttl,
    )
    return result.allowed


async def _record_wrong_code(
    work: UnitOfWork, lockout: Lockout, user: User, attempt: int, reason: str
) -> None:
    await work.audit(
        "user.login_failed",
        outcome="failure",
        user_id=user.id,
        details={"reason": reason},
    )
    await lockout.record_claimed_failure(work, str(user.id), user, attempt)


async def _finish(
    work: UnitOfWork,
    services: Services,
    user: User,
    mfa_token: str,
    method: str,
    start: SessionStart,
    proven: ProvenPasskey | None = None,
) -> CompletedLogin:
    """Spend the challenge with the code, then the login; both or neither."""
    challenge = await consume_one_time_token(work, mfa_token, MFA_LOGIN)
    if challenge is None:
        raise InvalidMfaToken()  # a concurrent request won; undo the spent code
    await work.audit("mfa.verified", user_id=user.id, details={"method": method})
    idp = challenge.data.get("idp")
    first = list(challenge.data.get("first") or (["fed"] if idp else AMR_PASSWORD))
    # RFC 8176 §2: the passkey's own method (hwk or swk, user when verified) beside the first.
    second = [m for m in proven.amr() if m != "mfa"] if proven else ["otp"]
    amr = [*first, *second, "mfa"]
    return await finish_login(work, services, user, amr=amr, start=start, idp=idp)
