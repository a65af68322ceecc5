"""The end of every login, whichever way the user proved who they are, and the MFA step before it.

The JSON API and the hosted pages both call `finish_login` (nothing about a login is written
twice; see docs/architecture.md): a session, optionally the head of a refresh-token family, the
`user.login` audit row, the success metric and the "new device" mail all come from here.

With TOTP on, a correct password is only the first step: `start_mfa_challenge` hands out a
short-lived single-use token bound to the caller (IP and User-Agent), and `complete_mfa_login`
takes it with a code. Wrong codes count toward the same account lockout as wrong passwords; the
challenge token is consumed only on success, in the same transaction as the code and the session.

Every attempt is counted before its code is evaluated, atomically in the cache, twice: against
the challenge (at most MFA_CHALLENGE_ATTEMPTS, then the challenge is dead) and against the
account's lockout. However many requests arrive at once, no more codes are evaluated than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provider.accounts.lockout import Lockout
from provider.accounts.mfa import accept_second_factor, mfa_enabled
from provider.accounts.notices import account_notice
from provider.accounts.one_time_tokens import (
    MFA_LOGIN,
    consume_one_time_token,
    find_one_time_token,
    issue_one_time_token,
)
from provider.context import Caller, Services
from provider.crypto.tokens import token_hash
from provider.domain_errors import AccountLocked, InvalidMfaToken, InvalidSecondFactor
from provider.mail.mailer import MailKind
from provider.ops.metrics import AUTH_OPERATIONS
from provider.sessions.service import issue_refresh_token, revoke_session, start_session
from provider.storage.models import Session, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

# RFC 8176 §2 authentication method references.
AMR_PASSWORD = ("pwd",)
AMR_PASSWORD_AND_OTP = ("pwd", "otp", "mfa")
# OIDC Core §2 `acr`: one factor is level "1" (as the hosted pages record it), two factors this.
ACR_PASSWORD = "1"
ACR_MFA = "urn:provider:acr:mfa"
# Codes evaluated per challenge, right or wrong; the next attempt finds the challenge dead.
MFA_CHALLENGE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class CompletedLogin:
    user: User
    session: Session
    refresh_token: str | None


async def finish_login(
    work: UnitOfWork,
    services: Services,
    user: User,
    *,
    amr: list[str],
    client_id: str | None,
    issue_refresh: bool = True,
    scope: str = "",
    cookie_hash: str | None = None,
    current: Session | None = None,
    idp: str | None = None,
) -> CompletedLogin:
    """Start the session of an authenticated user inside `work` and record the login.

    `idp` names the upstream identity provider of a federated sign-in, for the audit and event.

    `issue_refresh` makes the session's first refresh-token family for `client_id` (the JSON
    API); the hosted pages pass False and a `cookie_hash` instead, with `current`, the browser's
    live session: the same user's is authenticated again (a new auth_time, amr and acr, and the
    new cookie in place of the old one) rather than doubled, another user's is ended. The mail
    about a new device and the metric follow the commit of `work`.
    """
    settings = services.settings
    acr = ACR_MFA if "mfa" in amr else ACR_PASSWORD
    new_device = False
    if current is not None and str(current.user_id) == str(user.id):
        session = await authenticate_again(work, current, amr, acr, cookie_hash)
    else:
        if current is not None:
            await revoke_session(work, current.id, current.user_id, reason="switched_account")
        new_device = await _is_new_device(work, user)
        session = await start_session(
            work,
            settings,
            user,
            amr=amr,
            acr=acr,
            client_id=client_id,
            cookie_hash=cookie_hash,
        )
    refresh_token = None
    if issue_refresh:
        assert client_id is not None, "a refresh token belongs to a client"
        issued = await issue_refresh_token(
            work, settings, session, client_id=client_id, scope=scope
        )
        refresh_token = issued.token
    await work.audit(
        "user.login",
        user_id=user.id,
        session_id=session.id,
        client_id=client_id,
        details={"amr": amr, **({"idp": idp} if idp else {})},
    )
    work.after_commit(AUTH_OPERATIONS.labels(operation="login", outcome="success").inc)
    if new_device:
        work.after_commit(account_notice(services, work.caller, user, MailKind.NEW_DEVICE))
    return CompletedLogin(user, session, refresh_token)


async def authenticate_again(
    work: UnitOfWork,
    session: Session,
    amr: list[str],
    acr: str,
    cookie_hash: str | None = None,
) -> Session:
    """The same session, proven again now (OIDC Core §2 auth_time; prompt=login, max_age).

    Its cookie is replaced: every successful authentication ends the old cookie's validity, so a
    cookie captured before a re-login or a step-up to MFA does not carry the stronger proof.
    """
    now = utcnow()
    changes: dict[str, Any] = {"auth_time": now, "last_active_at": now, "amr": amr, "acr": acr}
    if cookie_hash is not None:
        changes["cookie_hash"] = cookie_hash
    await Session.filter(id=session.id).using_db(work.conn).update(**changes)
    session.auth_time = session.last_active_at = now
    session.amr, session.acr = amr, acr
    if cookie_hash is not None:
        session.cookie_hash = cookie_hash
    return session


async def _is_new_device(work: UnitOfWork, user: User) -> bool:
    """No earlier session from this User-Agent and address; never for the very first session."""
    earlier = Session.filter(user_id=user.id).using_db(work.conn)
    if not await earlier.exists():
        return False
    seen = await earlier.filter(ip=work.caller.ip, user_agent=work.caller.user_agent[:512]).exists()
    return not seen


async def start_mfa_challenge(
    services: Services, caller: Caller, user: User, *, idp: str | None = None
) -> str:
    """The token that stands for "password verified" until the second factor is given.

    With `idp`, the first factor was an upstream provider's sign-in instead of the password:
    the login that follows the code records `fed` (and the idp) in place of `pwd`.
    """
    data = {"ip": caller.ip, "user_agent": caller.user_agent[:512]}
    if idp:
        data["idp"] = idp
    async with unit_of_work(caller, services.events) as work:
        token = await issue_one_time_token(
            work, user.id, MFA_LOGIN, services.settings.mfa_token_ttl, data
        )
        await work.audit("mfa.challenged", user_id=user.id)
    AUTH_OPERATIONS.labels(operation="login", outcome="mfa_required").inc()
    return token


async def complete_mfa_login(
    services: Services,
    caller: Caller,
    mfa_token: str,
    code: str,
    *,
    client_id: str | None,
    issue_refresh: bool = True,
    cookie_hash: str | None = None,
    current: Session | None = None,
) -> CompletedLogin:
    """Check the second factor of a challenged login and finish it (amr pwd+otp+mfa).

    `current` is passed on to `finish_login`: a step-up of the browser's session keeps it.
    """
    challenge = await find_one_time_token(mfa_token, MFA_LOGIN)
    if (
        challenge is None
        or challenge.data.get("ip") != caller.ip
        or challenge.data.get("user_agent") != caller.user_agent[:512]
    ):
        raise InvalidMfaToken()
    user = await User.get_or_none(id=challenge.user_id)
    if user is None or user.deleted_at is not None or not mfa_enabled(user):
        raise InvalidMfaToken()
    lockout = Lockout(services)
    subject = str(user.id)
    try:
        await lockout.ensure_not_locked(subject, user)
        await _claim_challenge_attempt(services, caller, mfa_token)
        attempt = await lockout.claim_attempt(subject)
    except AccountLocked:
        AUTH_OPERATIONS.labels(operation="mfa", outcome="locked").inc()
        raise
    login = None
    async with unit_of_work(caller, services.events) as work:
        method = await accept_second_factor(work, services.settings, user, code)
        if method is not None:
            if await consume_one_time_token(work, mfa_token, MFA_LOGIN) is None:
                raise InvalidMfaToken()  # a concurrent request won; undo the spent code
            await work.audit("mfa.verified", user_id=user.id, details={"method": method})
            idp = challenge.data.get("idp")
            login = await finish_login(
                work,
                services,
                user,
                amr=["fed", "otp", "mfa"] if idp else list(AMR_PASSWORD_AND_OTP),
                idp=idp,
                client_id=client_id,
                issue_refresh=issue_refresh,
                cookie_hash=cookie_hash,
                current=current,
            )
    if login is None:
        async with unit_of_work(caller, services.events) as work:
            await work.audit(
                "user.login_failed",
                outcome="failure",
                user_id=user.id,
                details={"reason": "invalid_mfa_code"},
            )
            await lockout.record_claimed_failure(work, subject, user, attempt)
        AUTH_OPERATIONS.labels(operation="mfa", outcome="invalid_code").inc()
        raise InvalidSecondFactor()
    # Only now: a correct password alone must not clear the failures of wrong codes.
    await lockout.reset(subject)
    return login


async def _claim_challenge_attempt(services: Services, caller: Caller, mfa_token: str) -> None:
    """Count this attempt against the challenge; past the limit the challenge is spent."""
    result = await services.cache.hit_window(
        f"mfa:attempts:{token_hash(mfa_token)}",
        MFA_CHALLENGE_ATTEMPTS,
        services.settings.mfa_token_ttl,
    )
    if result.allowed:
        return
    async with unit_of_work(caller, services.events) as work:
        await consume_one_time_token(work, mfa_token, MFA_LOGIN)
    AUTH_OPERATIONS.labels(operation="mfa", outcome="challenge_exhausted").inc()
    raise InvalidMfaToken()
