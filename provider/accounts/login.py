"""The end of every login, whichever way the user proved who they are.

The JSON API and the hosted pages both call `finish_login` (nothing about a login is written
twice; see docs/architecture.md): a session, optionally the head of a refresh-token family, the
`user.login` audit row, the success metric and the "new device" mail all come from here. The
second factor before it is provider.accounts.second_factor.
"""

from __future__ import annotations

from dataclasses import dataclass

from provider.accounts.notices import account_notice
from provider.context import Services
from provider.mail.mailer import MailKind
from provider.ops.metrics import AUTH_OPERATIONS
from provider.sessions.service import issue_refresh_token, revoke_session, start_session
from provider.storage.models import Session, User
from provider.storage.sessions import Sessions
from provider.storage.unit_of_work import UnitOfWork, utcnow

# RFC 8176 §2 authentication method references.
AMR_PASSWORD = ("pwd",)
AMR_PASSWORD_AND_OTP = ("pwd", "otp", "mfa")
# OIDC Core §2 `acr`: one factor is level "1" (as the hosted pages record it), two factors this.
ACR_PASSWORD = "1"
ACR_MFA = "urn:provider:acr:mfa"


@dataclass(frozen=True, slots=True)
class CompletedLogin:
    user: User
    session: Session
    refresh_token: str | None


@dataclass(frozen=True, slots=True)
class SessionStart:
    """How the session of a sign-in starts, as its adapter needs it (see `finish_login`): a
    refresh token for `client_id` (the JSON API), or the browser's new cookie and its `current`
    session (the hosted pages)."""

    client_id: str | None
    issue_refresh: bool = True
    cookie_hash: str | None = None
    current: Session | None = None


async def finish_login(
    work: UnitOfWork,
    services: Services,
    user: User,
    *,
    amr: list[str],
    start: SessionStart,
    scope: str = "",
    idp: str | None = None,
) -> CompletedLogin:
    """Start the session of an authenticated user inside `work` and record the login.

    `start.issue_refresh` makes the session's first refresh-token family for `start.client_id`
    (the JSON API); the hosted pages pass False and a `cookie_hash` instead, with `current`, the
    browser's live session: the same user's is authenticated again (a new auth_time, amr and acr,
    and the new cookie in place of the old one) rather than doubled, another user's is ended. The
    mail about a new device and the metric follow the commit of `work`.

    `idp` names the upstream identity provider of a federated sign-in, for the audit and event.
    """
    settings = services.settings
    client_id, cookie_hash, current = start.client_id, start.cookie_hash, start.current
    acr = ACR_MFA if "mfa" in amr else ACR_PASSWORD
    new_device = False
    if current is not None and str(current.user_id) == str(user.id):
        session = await authenticate_again(work, current, amr, acr, cookie_hash)
    else:
        if current is not None:
            await revoke_session(work, current.id, current.user_id, reason="switched_account")
        new_device = await Sessions(work).is_new_device(user.id)
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
    if start.issue_refresh:
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
        details={"method": _method(amr), "amr": amr, **({"idp": idp} if idp else {})},
    )
    work.after_commit(AUTH_OPERATIONS.labels(operation="login", outcome="success").inc)
    if new_device:
        work.after_commit(account_notice(services, work.caller, user, MailKind.NEW_DEVICE))
    return CompletedLogin(user, session, refresh_token)


def _method(amr: list[str]) -> str:
    """How the user proved who they are first: with a password, a passkey or upstream."""
    first = amr[0] if amr else "pwd"
    return {"hwk": "passkey", "swk": "passkey", "fed": "federated"}.get(first, "password")


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
    await Sessions(work).authenticated_again(
        session.id, now=now, amr=amr, acr=acr, cookie_hash=cookie_hash
    )
    session.auth_time = session.last_active_at = now
    session.amr, session.acr = amr, acr
    if cookie_hash is not None:
        session.cookie_hash = cookie_hash
    return session
