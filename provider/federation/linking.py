"""The use cases of an upstream sign-in: from a callback to a local login, and links.

The rules (README, "Upstream identity providers"):

1. An identity linked to a user signs that user in.
2. No link, but a local account with the same email: never taken over silently. It is linked
   at once only when the upstream asserts the email verified *and* the provider is trusted for
   linking; otherwise the user signs in with that account's password once to confirm the link.
3. No account: one is created when the provider allows sign-up, with the upstream's email
   (verified when the upstream says so) and no password; its owner can set one through the
   reset flow.

Everything a callback writes (the account, the link, the session and their audit rows) is one
transaction: a failure leaves no half of it. Every sign-in ends in `_complete`, the one call of
provider.accounts.login.finish_login here: the session, the `user.login` audit row and event
(with `idp`), the new-device mail, as for a password. A user with TOTP on still gives the code:
the upstream stands in for the password, not for the second factor. Each refusal is audited as
`user.login_failed` with the provider and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from provider.accounts.auth_age import require_recent_authentication
from provider.accounts.identity import IdentifierRefused, new_email
from provider.accounts.lockout import Lockout
from provider.accounts.login import CompletedLogin, SessionStart, finish_login
from provider.accounts.mfa import mfa_enabled
from provider.accounts.second_factor import start_mfa_challenge
from provider.accounts.sign_in import Credentials, SecondFactorRequired, sign_in
from provider.accounts.sign_in_methods import other_ways_to_sign_in
from provider.context import Caller, Services, outbound_policy
from provider.crypto.tokens import token_hash
from provider.domain_errors import DomainError, InvalidCredentials
from provider.federation.errors import (
    AccountUnusable,
    IdentityTaken,
    InvalidCallback,
    LastSignInMethod,
    SignUpClosed,
    UnknownProvider,
    UpstreamDenied,
    UpstreamSignInFailed,
)
from provider.federation.pending import (
    PendingLink,
    PendingSignIn,
    claim_sign_in,
    find_link,
    forget_link,
    remember_link,
    remember_sign_in,
)
from provider.federation.providers import Upstream, is_slug, offered_upstream
from provider.federation.upstream import UpstreamIdentity, begin, finish
from provider.storage.db import default_connection
from provider.storage.federation import (
    DuplicateRecord,
    FederatedIdentities,
    IdentityProviders,
    create_passwordless_user,
    user_by_email,
    user_by_id,
)
from provider.storage.models import Session, User
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

# RFC 8176 has no value for "signed in through another identity provider"; `fed` is this
# provider's own, as the issue and DESIGN.md name it, next to the upstream's `mfa` if reported.
AMR_FEDERATED = "fed"
AMR_PASSWORD = "pwd"


@dataclass(frozen=True, slots=True)
class BrowserLogin:
    """How the hosted pages want the session: its cookie and the browser's current session."""

    client_id: str | None
    cookie_hash: str
    current: Session | None


@dataclass(frozen=True, slots=True)
class Verified:
    """A callback whose state, code and identity checked out."""

    upstream: Upstream
    identity: UpstreamIdentity
    pending: PendingSignIn


@dataclass(frozen=True, slots=True)
class SignedIn:
    login: CompletedLogin


@dataclass(frozen=True, slots=True)
class SecondFactorNeeded:
    user: User
    challenge: str


@dataclass(frozen=True, slots=True)
class _SecondFactorFirst:
    """The user has TOTP on: the code is asked once the transaction has committed."""

    user: User


@dataclass(frozen=True, slots=True)
class ConfirmLink:
    """The email matches an account that must prove it is the user's before the link."""

    token: str
    email: str
    provider_name: str


@dataclass(frozen=True, slots=True)
class Linked:
    provider: str


Outcome = SignedIn | SecondFactorNeeded | ConfirmLink


def _amr(identity_mfa: bool, *first: str) -> list[str]:
    return [*first, AMR_FEDERATED, *(["mfa"] if identity_mfa else [])]


async def start_sign_in(
    services: Services,
    caller: Caller,
    slug: str,
    redirect_uri: str,
    *,
    browser: str,
    flow_id: str | None,
    next_path: str | None,
    link_session: Session | None = None,
) -> str:
    """The upstream's authorization URL; the state waits in the cache for the callback.

    With `link_session`, a signed-in user adds the provider to their account: a new way in, so
    like a second factor it needs a recent sign-in (ReauthenticationRequired otherwise).
    """
    if link_session is not None:
        require_recent_authentication(services.settings, link_session)
    try:
        upstream = await offered_upstream(services.settings, slug)
        started = await begin(upstream, redirect_uri, outbound_policy(services.settings))
    except UpstreamSignInFailed as exc:
        await audit_failure(services, caller, slug, exc)
        raise
    pending = PendingSignIn(
        provider=upstream.slug,
        nonce=started.nonce,
        code_verifier=started.code_verifier,
        browser_hash=token_hash(browser),
        flow_id=flow_id,
        next_path=next_path,
        link_user_id=str(link_session.user_id) if link_session is not None else None,
    )
    await remember_sign_in(services.cache, started.state, pending)
    return started.url


async def verify_callback(
    services: Services,
    caller: Caller,
    slug: str,
    *,
    params: dict[str, str],
    browser: str | None,
    redirect_uri: str,
) -> Verified:
    """Claim the state (once, from the browser that started), then check what the upstream
    sent: its error, or the code, exchanged and its identity checked. Refusals are audited."""
    try:
        upstream = await offered_upstream(services.settings, slug)
        pending = await claim_sign_in(services.cache, params.get("state", ""), browser)
        if pending.provider != upstream.slug:
            raise InvalidCallback(details={"reason": "other_provider"})
        if "error" in params:
            raise UpstreamDenied(details={"upstream_error": params["error"][:64]})
        code = params.get("code", "")
        if not code or len(code) > 2048:
            raise InvalidCallback(details={"reason": "missing_code"})
        identity = await finish(
            upstream,
            redirect_uri,
            outbound_policy(services.settings),
            code=code,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
    except (UpstreamSignInFailed, UnknownProvider) as exc:
        await audit_failure(services, caller, slug, exc)
        raise
    return Verified(upstream, identity, pending)


async def audit_failure(
    services: Services, caller: Caller, slug: str, error: DomainError, user_id: str | None = None
) -> None:
    """`user.login_failed` with the provider and why, for every refused upstream sign-in."""
    reason = error.reason if isinstance(error, UpstreamSignInFailed) else error.code
    # A callback refused for its state says which check failed (replayed, other browser, …).
    given = error.details if isinstance(error.details, dict) else {}
    # A slug from the URL is recorded only if it could be one (no NUL or stray bytes in the row).
    idp = slug if is_slug(slug) else "?"
    details: dict[str, object] = {"idp": idp, **given, "reason": given.get("reason", reason)}
    async with unit_of_work(caller, services.events) as work:
        await work.audit("user.login_failed", outcome="failure", user_id=user_id, details=details)


async def sign_in_upstream(
    services: Services, caller: Caller, verified: Verified, login: BrowserLogin
) -> Outcome:
    """Rules 1-3 of the module's docstring, in one transaction, ending in the login."""
    upstream, identity = verified.upstream, verified.identity
    try:
        outcome = await _sign_in(services, caller, upstream, identity, verified.pending, login)
    except DomainError as exc:
        # Refused by a rule here, or by the lockout (an administrator's lock holds here too).
        user_id = exc.user_id if isinstance(exc, UpstreamSignInFailed) else None
        await audit_failure(services, caller, upstream.slug, exc, user_id)
        raise
    except DuplicateRecord as exc:
        # A concurrent callback created the same account or link first; nothing of this stays.
        failed = UpstreamSignInFailed("This sign-in happened twice at once. Try again.")
        await audit_failure(services, caller, upstream.slug, failed)
        raise failed from exc
    if isinstance(outcome, _SecondFactorFirst):
        return SecondFactorNeeded(
            outcome.user,
            await start_mfa_challenge(services, caller, outcome.user, idp=upstream.slug),
        )
    return outcome


async def _sign_in(
    services: Services,
    caller: Caller,
    upstream: Upstream,
    identity: UpstreamIdentity,
    pending: PendingSignIn,
    login: BrowserLogin,
) -> SignedIn | _SecondFactorFirst | ConfirmLink:
    async with unit_of_work(caller, services.events) as work:
        identities = FederatedIdentities(work.conn)
        linked = await identities.find(upstream.slug, identity.subject)
        if linked is not None:
            user = await user_by_id(work.conn, linked.user_id)
            assert user is not None  # the link cascades with its user
            await _ensure_usable(services, user)
            await identities.used(linked.id, identity.email or linked.email, utcnow())
            return await _complete(services, work, user, _amr(identity.mfa), upstream, login)
        existing = await user_by_email(work.conn, identity.email) if identity.email else None
        if existing is not None:
            if not (identity.email_verified and upstream.trust_email):
                assert identity.email is not None
                return await _ask_to_confirm(services, upstream, identity, existing, pending)
            await _ensure_usable(services, existing)
            await _link(work, identities, upstream, identity, existing)
            return await _complete(services, work, existing, _amr(identity.mfa), upstream, login)
        user = await _sign_up(work, identities, upstream, identity)
        return await _complete(services, work, user, _amr(identity.mfa), upstream, login)


async def _ensure_usable(services: Services, user: User) -> None:
    if user.deleted_at is not None:
        raise AccountUnusable(user_id=str(user.id))
    # An administrator's lock, or one from failed passwords, holds for every way in.
    await Lockout(services).ensure_not_locked(str(user.id), user)


async def _ask_to_confirm(
    services: Services,
    upstream: Upstream,
    identity: UpstreamIdentity,
    user: User,
    pending: PendingSignIn,
) -> ConfirmLink:
    assert identity.email is not None
    token = await remember_link(
        services.cache,
        PendingLink(
            provider=upstream.slug,
            provider_name=upstream.name,
            subject=identity.subject,
            email=identity.email,
            user_id=str(user.id),
            mfa=identity.mfa,
            browser_hash=pending.browser_hash,
            flow_id=pending.flow_id,
            next_path=pending.next_path,
        ),
    )
    return ConfirmLink(token, identity.email, upstream.name)


async def _sign_up(
    work: UnitOfWork,
    identities: FederatedIdentities,
    upstream: Upstream,
    identity: UpstreamIdentity,
) -> User:
    if not upstream.allow_signup:
        raise SignUpClosed()
    if identity.email is None:
        raise SignUpClosed(
            "The provider did not share an email address, so no account can be made."
        )
    try:
        # The rules of a new local address: a look-alike must not open a second account.
        email = new_email(identity.email)
    except IdentifierRefused as exc:
        raise SignUpClosed(
            "The provider's email address cannot be used for a new account: it " + exc.reason
        ) from exc
    now = utcnow()
    user = await create_passwordless_user(
        work.conn,
        email=email,
        name=identity.name,
        verified_at=now if identity.email_verified else None,
    )
    await work.audit(
        "user.registered",
        user_id=user.id,
        details={"idp": upstream.slug, "email_verified": identity.email_verified},
    )
    await _link(work, identities, upstream, identity, user)
    return user


async def _link(
    work: UnitOfWork,
    identities: FederatedIdentities,
    upstream: Upstream,
    identity: UpstreamIdentity,
    user: User,
) -> None:
    if any(link.provider_id == upstream.slug for link in await identities.of_user(user.id)):
        raise IdentityTaken(f"This account is linked to another {upstream.name} account already.")
    await identities.link(upstream.slug, identity.subject, user.id, identity.email or "", utcnow())
    await work.audit("identity.linked", user_id=user.id, details={"idp": upstream.slug})


async def _complete(
    services: Services,
    work: UnitOfWork,
    user: User,
    amr: list[str],
    upstream: Upstream,
    login: BrowserLogin,
) -> SignedIn | _SecondFactorFirst:
    """The end of every upstream sign-in: the login, or first the user's second factor."""
    if mfa_enabled(user):
        return _SecondFactorFirst(user)
    completed = await finish_login(
        work,
        services,
        user,
        amr=amr,
        start=SessionStart(
            client_id=login.client_id,
            issue_refresh=False,
            cookie_hash=login.cookie_hash,
            current=login.current,
        ),
        idp=upstream.slug,
    )
    return SignedIn(completed)


async def pending_link(
    services: Services, token: str | None, browser: str | None
) -> PendingLink | None:
    """The link waiting under `token`, if this browser is the one that came back with it."""
    link = await find_link(services.cache, token)
    if link is None or not browser or token_hash(browser) != link.browser_hash:
        return None
    return link


async def confirm_link(
    services: Services,
    caller: Caller,
    token: str,
    browser: str | None,
    password: str,
    login: BrowserLogin,
) -> SignedIn | SecondFactorNeeded:
    """The password of the account the upstream's email matched: then the link, and the login.

    The password goes through the `sign_in` use case (its limits, lockout, audit and session);
    with TOTP on, the link is made once the password is right and the code is asked next.
    """
    link = await pending_link(services, token, browser)
    if link is None:
        raise InvalidCallback()
    user = await user_by_id(default_connection(), link.user_id)
    if user is None:
        raise InvalidCallback()
    upstream = await offered_upstream(services.settings, link.provider)
    start = SessionStart(
        client_id=login.client_id,
        issue_refresh=False,
        cookie_hash=login.cookie_hash,
        current=login.current,
    )
    outcome = await sign_in(
        services,
        caller,
        lambda: Credentials(user.email, password),
        start=start,
        also_proved=tuple(_amr(link.mfa)),
    )
    signed = outcome.user if isinstance(outcome, SecondFactorRequired) else outcome.login.user
    if str(signed.id) != link.user_id:
        raise InvalidCredentials()
    identity = UpstreamIdentity(link.subject, link.email, False, "", link.mfa)
    async with unit_of_work(caller, services.events) as work:
        identities = FederatedIdentities(work.conn)
        if await identities.find(upstream.slug, identity.subject) is not None:
            raise IdentityTaken()
        await _link(work, identities, upstream, identity, signed)
    await forget_link(services.cache, token)
    if isinstance(outcome, SecondFactorRequired):
        return SecondFactorNeeded(outcome.user, outcome.challenge)
    return SignedIn(outcome.login)


async def link_to_account(
    services: Services, caller: Caller, verified: Verified, user: User
) -> Linked:
    """A signed-in user adds a provider from the account page (the callback proved the upstream
    account is theirs too)."""
    upstream, identity = verified.upstream, verified.identity
    try:
        async with unit_of_work(caller, services.events) as work:
            identities = FederatedIdentities(work.conn)
            found = await identities.find(upstream.slug, identity.subject)
            if found is not None and str(found.user_id) != str(user.id):
                raise IdentityTaken()
            if found is None:
                await _link(work, identities, upstream, identity, user)
    except DuplicateRecord as exc:
        raise IdentityTaken() from exc
    return Linked(upstream.slug)


@dataclass(frozen=True, slots=True)
class AccountProvider:
    """A provider on the account page: linked (with the email seen there), or offered."""

    slug: str
    name: str
    linked: bool
    email: str


async def providers_of(user: User) -> list[AccountProvider]:
    """The providers the user is linked to, then the offered ones they could link."""
    conn = default_connection()
    links = {link.provider_id: link for link in await FederatedIdentities(conn).of_user(user.id)}
    rows = await IdentityProviders(conn).all()
    return [
        AccountProvider(row.slug, row.name, row.slug in links, links[row.slug].email)
        if row.slug in links
        else AccountProvider(row.slug, row.name, False, "")
        for row in rows
        if row.slug in links or (row.enabled and row.client_id)
    ]


async def unlink(services: Services, caller: Caller, session: Session, slug: str) -> None:
    """Remove the user's link to `slug` (after a recent sign-in, as for removing a factor),
    unless it is their last way to sign in."""
    require_recent_authentication(services.settings, session)
    user = session.user
    async with unit_of_work(caller, services.events) as work:
        identities = FederatedIdentities(work.conn)
        links = await identities.of_user(user.id)
        if not any(link.provider_id == slug for link in links):
            raise UnknownProvider("Your account is not linked to that provider.")
        if not await other_ways_to_sign_in(work, user, passkeys=0, providers=1):
            raise LastSignInMethod()
        await identities.unlink(user.id, slug)
        await work.audit("identity.unlinked", user_id=user.id, details={"idp": slug})
