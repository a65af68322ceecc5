"""Proving a user with a passkey: the check behind a passkey sign-in and a passkey second step.

`prove_passkey` spends the ceremony, parses the assertion, finds the passkey by its credential
id, checks the user handle, the account's lock, and the signature against the passkey's public
key (provider.accounts.passkey_ceremony). A refusal is audited here, once, with its reason:
`user.login_failed` (and a count toward the lockout once the account is known). A counter that
did not grow is refused and audited as `passkey.clone_suspected` (WebAuthn L3 §7.2 step 22).
The passkey's new counter is written by `record_use` inside the caller's unit of work, with the
login it allows: both or neither.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from provider.accounts.limits import count_address, passkey_options_address
from provider.accounts.lockout import Lockout
from provider.accounts.passkey_ceremony import (
    AUTHENTICATE,
    Started,
    claim_ceremony,
    parse_assertion,
    start_authentication,
    user_handle_of,
    verify_assertion,
)
from provider.context import Caller, Services
from provider.domain_errors import (
    AccountDisabled,
    DomainError,
    InvalidPasskeyResponse,
    PasskeyRefused,
)
from provider.storage.accounts import UserRecords
from provider.storage.db import default_connection
from provider.storage.models import Passkey, User
from provider.storage.passkeys import Passkeys
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

log = logging.getLogger("provider.passkeys")


@dataclass(frozen=True, slots=True)
class PasskeyAnswer:
    """The ceremony token the caller holds and the credential JSON from navigator.credentials."""

    ceremony: str | None
    response: str


@dataclass(frozen=True, slots=True)
class ProvenPasskey:
    user: User
    passkey: Passkey
    new_count: int
    backed_up: bool
    user_verified: bool

    def amr(self) -> list[str]:
        """RFC 8176 §2: `swk` for a key that can leave its device (a synced passkey), `hwk` for
        one bound to its hardware; with user verification, `user`, and the two factors, `mfa`."""
        key = "swk" if self.passkey.backup_eligible else "hwk"
        return [key, "user", "mfa"] if self.user_verified else [key]


async def begin_passkey_sign_in(services: Services, caller: Caller) -> Started:
    """Options for a sign-in with any discoverable passkey (a button, or the browser's autofill),
    counted against the per-address window of ceremonies started before sign-in."""
    await count_address(services, caller, passkey_options_address(services.settings))
    return await start_authentication(services, caller)


async def prove_passkey(
    services: Services,
    caller: Caller,
    answer: PasskeyAnswer,
    *,
    expected_user: User | None = None,
    session_id: str | None = None,
    audit_refusal: bool = True,
) -> ProvenPasskey:
    """The user the assertion proves (who must be `expected_user` when given); refusals are
    raised as typed errors, audited as a failed sign-in unless `audit_refusal` is False (the
    second step records its own, as a wrong answer to its challenge)."""
    user: User | None = None
    try:
        ceremony = await claim_ceremony(
            services, caller, answer.ceremony, AUTHENTICATE, session_id=session_id
        )
        credential = parse_assertion(answer.response)
        passkey = await Passkeys(default_connection()).find(credential.id)
        if passkey is None:
            raise PasskeyRefused()
        user = await UserRecords(default_connection()).by_id(passkey.user_id)
        if user is None or (expected_user is not None and user.id != expected_user.id):
            user = expected_user
            raise PasskeyRefused()
        # WebAuthn L3 §7.2 step 6: the user handle, when given, MUST be the credential owner's.
        handle = credential.response.user_handle
        if handle is not None and handle != user_handle_of(user):
            raise PasskeyRefused()
        if user.deleted_at is not None:
            raise AccountDisabled()
        await Lockout(services).ensure_not_locked(str(user.id), user)
        verified = verify_assertion(services.settings, ceremony, credential, passkey)
    except DomainError as exc:
        if audit_refusal:
            await _refused(services, caller, user, exc)
        raise
    # §7.2 step 22: a counter that does not grow (when either is non-zero) may be a clone.
    if (verified.new_count or passkey.sign_count) and verified.new_count <= passkey.sign_count:
        await _clone_suspected(services, caller, user, passkey, verified.new_count, audit_refusal)
        raise PasskeyRefused()
    return ProvenPasskey(
        user, passkey, verified.new_count, verified.backed_up, verified.user_verified
    )


async def record_use(work: UnitOfWork, proven: ProvenPasskey) -> None:
    """The passkey's new counter and last use, in the login's unit of work. A concurrent
    assertion that moved the counter first wins; this one is refused."""
    moved = await Passkeys(work.conn).used(
        proven.passkey.id,
        seen_count=proven.passkey.sign_count,
        new_count=proven.new_count,
        backed_up=proven.backed_up,
        now=utcnow(),
    )
    if not moved:
        raise PasskeyRefused()


async def _refused(services: Services, caller: Caller, user: User | None, exc: DomainError) -> None:
    details = {"method": "passkey", "reason": exc.code}
    if user is not None and isinstance(exc, InvalidPasskeyResponse | PasskeyRefused):
        # A wrong signature for a known account counts toward its lock, as a wrong password.
        await Lockout(services).record_refusal(
            caller, "user.login_failed", str(user.id), user, details=details
        )
        return
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            "user.login_failed",
            outcome="failure",
            user_id=user.id if user else None,
            details=details,
        )


async def _clone_suspected(
    services: Services,
    caller: Caller,
    user: User,
    passkey: Passkey,
    new_count: int,
    failed_sign_in: bool,
) -> None:
    log.warning(
        "passkey counter went backwards",
        extra={"user_id": str(user.id), "passkey_id": str(passkey.id)},
    )
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            "passkey.clone_suspected",
            outcome="failure",
            user_id=user.id,
            details={
                "passkey_id": str(passkey.id),
                "stored_count": passkey.sign_count,
                "presented_count": new_count,
            },
        )
        if failed_sign_in:
            await work.audit(
                "user.login_failed",
                outcome="failure",
                user_id=user.id,
                details={"method": "passkey", "reason": "counter_not_increased"},
            )
